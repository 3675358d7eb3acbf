import { scrub, type Revealable } from './secret.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

/** Structured logging: one JSON object per line, with every known secret scrubbed from the whole line. */
export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export type LineSink = (level: Level, line: string) => void;

/**
 * Every line to stdout as it is. Function Compute's Node.js runtime prefixes each console.log line with its time,
 * request id and level ("2023-04-01T10:04:19.024Z 19b394a3-… [silly] hello,world"), so the logstore would hold text,
 * not JSON; process.stdout.write is stored as written (Function Compute, Node.js "Logs": "Use process.stdout.write to
 * print logs").
 */
export const stdoutSink: LineSink = (_level, line) => {
  process.stdout.write(`${line}\n`);
};

/** Levels from the least to the most severe: a logger writes its minimum level and those above. */
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger writing JSON lines to `sink` (stdout unless told). `secrets` are scrubbed from the serialised line, so even
 * a value that reached a field by accident (an SDK error message holding a URL) is not printed.
 */
export function createLogger(
  opts: {
    sink?: LineSink;
    secrets?: readonly Revealable[];
    base?: Fields;
    minLevel?: Level;
    /** When given, each line carries `time` (ISO 8601, UTC) from it. */
    now?: () => number;
  } = {},
): Logger {
  const sink = opts.sink ?? stdoutSink;
  const { now } = opts;
  const secrets = opts.secrets ?? [];
  const min = RANK[opts.minLevel ?? 'info'];
  const write = (level: Level, msg: string, fields?: Fields) => {
    if (RANK[level] < min) return;
    const time = now ? { time: new Date(now()).toISOString() } : {};
    const line = JSON.stringify({ level, ...time, msg, ...opts.base, ...fields });
    sink(level, scrub(line, secrets));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** A logger that drops everything; for pure code paths under test. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
