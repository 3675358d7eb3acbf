import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import parseDuration from 'parse-duration';
import * as v from 'valibot';
import { readConfig } from '../config/config.js';
import { silenceSchema } from '../config/silences.js';
import { systemClock } from '../lib/budget.js';
import { ConfigError } from '../lib/errors.js';
import { MATCHER_FIELDS } from '../model/route.js';
import type { Silence, StoredSilence } from '../model/silence.js';
import { storeFor, type Io } from './commands.js';

// A silence row stays small whatever is typed: it is read by every run that has something to mute.
const MAX_PATTERNS = 20;
const MAX_PATTERN = 200;
const MAX_COMMENT = 500;
const MIN_DURATION_MS = 60_000;

export const SILENCE_HELP = `acr-sync-alert silence: mute alerts from the command line, kept in the state table

Usage:
  acr-sync-alert silence add [matchers] (--for <duration> | --until <time>) --comment <why> [--author <name>]
      matchers (at least one; each may repeat, * is a wildcard, case is ignored):
        --instance <region:instance>   the source instance     --namespace <ns>   --repo <repo>   --tag <tag>
        --rule <rule id or name>       --cause <TaskIssue, UNCLASSIFIED, recovered or stuck>
      --for 2h | 90m | 3d            how long, from now          --until 2026-12-24T08:00:00+08:00
      --comment "why"                required: shown in digests   --author <name> (default: your user name)
  acr-sync-alert silence list [--expired] [--json]
      the silences in force (with --expired, also those that ended and are still kept), and those in SILENCES
  acr-sync-alert silence expire <id> [<id>...]
      ends silences now; an id may be shortened to its first 8 characters

A silence takes effect at the next run. It needs the state table's read and write permissions (see \`policy\`).
`;

/** `silence add|list|expire`. Returns the exit code. */
export async function silenceCommand(io: Io, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return add(io, rest);
    case 'list':
    case 'ls':
      return list(io, rest);
    case 'expire':
      return expire(io, rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(SILENCE_HELP);
      return sub === undefined ? 2 : 0;
    default:
      io.err(`unknown silence command "${sub}"\n\n${SILENCE_HELP}`);
      return 2;
  }
}

type Values = Record<string, string | string[] | undefined>;
type Matchers = Partial<Record<(typeof MATCHER_FIELDS)[number], string[]>>;

/** The matchers given (--instance, --rule, ...), each a list of patterns; at least one, and not all `*`. */
function matchersFrom(values: Values, problems: string[]): Matchers {
  const matchers: Matchers = {};
  for (const m of MATCHER_FIELDS) {
    const list = values[m] as string[] | undefined;
    if (!list || list.length === 0) continue;
    if (list.length > MAX_PATTERNS) problems.push(`--${m} is given ${list.length} times; at most ${MAX_PATTERNS}`);
    for (const p of list)
      if (p.trim() === '' || p.length > MAX_PATTERN)
        problems.push(`--${m} must be a pattern of 1 to ${MAX_PATTERN} characters`);
    matchers[m] = list.map((p) => p.trim());
  }
  if (Object.keys(matchers).length === 0)
    problems.push(
      `give at least one of ${MATCHER_FIELDS.map((m) => `--${m}`).join(', ')}: ` +
        'a silence that matches everything would mute every alert',
    );
  else if (Object.values(matchers).every((l) => l.every((p) => /^\*+$/.test(p)))) {
    problems.push('every matcher given is *: a silence that matches everything would mute every alert');
  }
  return matchers;
}

/** The --comment, trimmed: required, and at most MAX_COMMENT characters. */
function commentFrom(values: Values, problems: string[]): string {
  const comment = typeof values.comment === 'string' ? values.comment.trim() : '';
  if (!comment) problems.push('--comment is required: say why, it is shown in digests next to the silence');
  else if (comment.length > MAX_COMMENT)
    problems.push(`--comment is ${comment.length} characters; at most ${MAX_COMMENT}`);
  return comment;
}

/** When a silence given --for a duration ends; undefined (with a problem) unless at least a minute with a unit. */
function endAfter(forValue: string, now: number, problems: string[]): number | undefined {
  // A bare number would be milliseconds to the parser: a unit is required.
  const ms = /[a-z]/i.test(forValue) ? parseDuration(forValue) : null;
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < MIN_DURATION_MS) {
    problems.push(`--for "${forValue}" is not a duration of at least a minute, e.g. 90m, 2h, 3d, 1h30m`);
    return undefined;
  }
  return now + ms;
}

/** When a silence given --until ends; undefined (with a problem) unless an ISO 8601 time with a zone, still ahead. */
function endAt(untilValue: string, now: number, problems: string[]): number | undefined {
  const r = v.safeParse(v.pipe(v.string(), v.isoTimestamp()), untilValue);
  const t = Date.parse(untilValue);
  if (!r.success || Number.isNaN(t))
    problems.push(`--until "${untilValue}" must be an ISO 8601 time with a zone, e.g. 2026-12-24T08:00:00+08:00`);
  else if (t <= now) problems.push(`--until ${untilValue} has already passed`);
  else return t;
  return undefined;
}

/** When the silence ends: --for or --until, exactly one of them. */
function endFrom(values: Values, now: number, problems: string[]): number | undefined {
  const forValue = values.for as string | undefined;
  const untilValue = values.until as string | undefined;
  if (forValue !== undefined && untilValue !== undefined) problems.push('give --for or --until, not both');
  else if (forValue !== undefined) return endAfter(forValue, now, problems);
  else if (untilValue !== undefined) return endAt(untilValue, now, problems);
  else problems.push('give --for (e.g. 2h) or --until (an ISO 8601 time): a silence from the command line always ends');
  return undefined;
}

/** The silence the options describe, checked as a configured one is, plus what a stored one needs; or every problem. */
export function silenceFrom(values: Values, now: number, author: string): StoredSilence {
  const problems: string[] = [];
  const matchers = matchersFrom(values, problems);
  const comment = commentFrom(values, problems);
  const ends = endFrom(values, now, problems);
  const silence: StoredSilence = {
    id: randomUUID(),
    ...matchers,
    comment,
    expires: new Date(ends ?? now).toISOString(),
    createdBy: author,
    createdAt: new Date(now).toISOString(),
  };
  // The same checks as SILENCES in the configuration, so what one accepts the other does.
  const { id: _id, createdBy: _by, createdAt: _at, ...asConfigured } = silence;
  const checked = v.safeParse(silenceSchema, asConfigured);
  if (!checked.success) for (const i of checked.issues) problems.push(`${v.getDotPath(i) ?? 'silence'}: ${i.message}`);
  if (problems.length > 0) throw new ConfigError(problems, 'Invalid silence');
  return silence;
}

function whoAmI(env: Io['env']): string {
  const name = env.USER ?? env.LOGNAME ?? env.USERNAME;
  if (name) return name;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function add(io: Io, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...Object.fromEntries(MATCHER_FIELDS.map((m) => [m, { type: 'string', multiple: true }])),
      for: { type: 'string' },
      until: { type: 'string' },
      comment: { type: 'string' },
      author: { type: 'string' },
    } as const,
    strict: true,
  });
  const config = readConfig(io.env, { requireChannel: false });
  const author = (values.author as string | undefined)?.trim() || whoAmI(io.env);
  if (author.length > 100) throw new ConfigError(['--author must be at most 100 characters']);
  const silence = silenceFrom(values as Record<string, string | string[] | undefined>, systemClock.now(), author);
  const store = storeFor(config, io);
  if (!(await store.saveSilence(silence, 0)))
    throw new Error(`silence id ${silence.id} is already taken; run the command again`);
  io.out(
    `${silence.id}\n` +
      `added: ${describe(silence)} until ${silence.expires}, by ${silence.createdBy}: ${silence.comment}\n` +
      `It takes effect at the next run; end it early with: acr-sync-alert silence expire ${silence.id.slice(0, 8)}`,
  );
  return 0;
}

const describe = (s: Silence) =>
  MATCHER_FIELDS.filter((m) => s[m])
    .map((m) => `${m}=${s[m]!.join('|')}`)
    .join(' ');

async function list(io: Io, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { expired: { type: 'boolean' }, json: { type: 'boolean' } },
    strict: true,
  });
  const config = readConfig(io.env, { requireChannel: false });
  const now = systemClock.now();
  const stored = (await storeFor(config, io).silences()).map((r) => r.value);
  const shown = stored
    .filter((s) => values.expired || Date.parse(s.expires) > now)
    .sort((a, b) => a.expires.localeCompare(b.expires));
  const configured = config.silences.filter((s) => values.expired || !s.expires || Date.parse(s.expires) > now);
  if (values.json) {
    io.out(
      JSON.stringify(
        { stored: shown.map(({ savedAt: _s, ...s }: StoredSilence & { savedAt?: number }) => s), configured },
        null,
        2,
      ),
    );
    return 0;
  }
  if (shown.length === 0 && configured.length === 0) {
    io.out(values.expired ? 'no silences' : 'no silences in force');
    return 0;
  }
  const rows = [
    ['ID', 'MATCHES', 'ENDS', 'BY', 'COMMENT'],
    ...shown.map((s) => [
      s.id.slice(0, 8),
      describe(s),
      `${s.expires}${Date.parse(s.expires) <= now ? ' (expired)' : ''}`,
      s.createdBy,
      s.comment,
    ]),
    ...configured.map((s, i) => [
      `config#${i + 1}`,
      describe(s),
      s.daily
        ? `daily ${s.daily} ${s.timezone ?? 'UTC'}${s.expires ? ` until ${s.expires}` : ''}`
        : (s.expires ?? 'never'),
      'SILENCES',
      s.comment ?? '',
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.min(60, Math.max(...rows.map((r) => r[c]!.length))));
  for (const r of rows)
    io.out(
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    );
  return 0;
}

async function expire(io: Io, args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  if (positionals.length === 0)
    throw new ConfigError(['give the id of the silence to expire (see `acr-sync-alert silence list`)']);
  const config = readConfig(io.env, { requireChannel: false });
  const store = storeFor(config, io);
  const now = systemClock.now();
  let failed = 0;
  for (const wanted of positionals) {
    const rows = await store.silences();
    const matches = wanted.length >= 8 ? rows.filter((r) => r.value.id.startsWith(wanted.toLowerCase())) : [];
    if (matches.length !== 1) {
      io.err(
        matches.length === 0
          ? `${wanted}: no silence has this id (give at least its first 8 characters)`
          : `${wanted}: ${matches.length} silences start with this; give more of the id`,
      );
      failed += 1;
      continue;
    }
    const s = matches[0]!;
    if (Date.parse(s.value.expires) <= now) {
      io.out(`${s.value.id}: already ended at ${s.value.expires}`);
      continue;
    }
    if (!(await store.saveSilence({ ...s.value, expires: new Date(now).toISOString() }, s.version))) {
      io.err(`${s.value.id}: changed while this ran; run the command again`);
      failed += 1;
      continue;
    }
    io.out(`${s.value.id}: expired (${describe(s.value)})`);
  }
  return failed > 0 ? 1 : 0;
}
