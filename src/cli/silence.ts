import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { systemClock } from '../lib/budget.js';
import { MATCHER_FIELDS } from '../model/route.js';
import type { Silence, StoredSilence } from '../model/silence.js';
import type { Io } from './commands.js';
import { DEPLOYMENT_OPTIONS, openDeployment } from './deployment.js';
import { commandHelp } from './help.js';
import { silenceFrom } from './silence-options.js';
import { UsageError } from './usage.js';
import { columns } from './columns.js';

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
      io.out(commandHelp('silence'));
      return sub === undefined ? 2 : 0;
    default:
      io.err(`usage: unknown silence command "${sub}"\n\n${commandHelp('silence')}`);
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
      ...DEPLOYMENT_OPTIONS,
    } as const,
    strict: true,
  });
  const author = (values.author as string | undefined)?.trim() || whoAmI(io.env);
  if (author.length > 100) throw new UsageError(['--author must be at most 100 characters']);
  const silence = silenceFrom(values as Record<string, string | string[] | undefined>, systemClock.now(), author);
  const store = await (await openDeployment(io, values, { command: 'silence add', changesState: true })).store();
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
    options: { expired: { type: 'boolean' }, json: { type: 'boolean' }, ...DEPLOYMENT_OPTIONS },
    strict: true,
  });
  const { config, store } = await openDeployment(io, values, { command: 'silence list', changesState: false });
  const now = systemClock.now();
  const stored = (await (await store()).silences()).map((r) => r.value);
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
  for (const l of columns(rows)) io.out(l);
  return 0;
}

async function expire(io: Io, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: DEPLOYMENT_OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0)
    throw new UsageError(['give the id of the silence to expire (see `acr-sync-alert silence list`)']);
  const store = await (await openDeployment(io, values, { command: 'silence expire', changesState: true })).store();
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
