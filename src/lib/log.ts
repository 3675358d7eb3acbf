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

const consoleSink: LineSink = (level, line) => {
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
};

/**
 * A logger writing JSON lines to `sink`. `secrets` are scrubbed from the serialised line, so even a value that
 * reached a field by accident (an SDK error message holding a URL) is not printed.
 */
export function createLogger(
  opts: { sink?: LineSink; secrets?: readonly Revealable[]; base?: Fields; minLevel?: Level } = {},
): Logger {
  const sink = opts.sink ?? consoleSink;
  const secrets = opts.secrets ?? [];
  const order: Level[] = ['debug', 'info', 'warn', 'error'];
  const min = order.indexOf(opts.minLevel ?? 'info');
  const write = (level: Level, msg: string, fields?: Fields) => {
    if (order.indexOf(level) < min) return;
    const line = JSON.stringify({ level, msg, ...opts.base, ...fields });
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
