import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { readConfig } from '../config/config.js';
import { systemClock } from '../lib/budget.js';
import { ConfigError } from '../lib/errors.js';
import { MATCHER_FIELDS } from '../model/route.js';
import type { Silence, StoredSilence } from '../model/silence.js';
import { storeFor, type Io } from './commands.js';
import { silenceFrom } from './silence-options.js';

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
