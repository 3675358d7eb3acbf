import { parseArgs } from 'node:util';
import { ConfigError, describeError } from '../lib/errors.js';
import type { ChannelName, Lang } from '../model/lang.js';
import { checkCommand } from './check.js';
import { invokeCommand, runCommand, type Io } from './commands.js';
import { DEPLOYMENT_OPTIONS, openDeployment } from './deployment.js';
import { commandHelp, COMMAND_HELP, HELP } from './help.js';
import { previewCommand } from './preview.js';
import { ramPolicy } from './policy.js';
import { silenceCommand } from './silence.js';
import { stateCommand } from './inspect-state.js';
import { UsageError } from './usage.js';
import { packageVersion } from './version.js';

export { HELP } from './help.js';

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError([`--${name} must be a positive whole number of seconds`]);
  return Number(v);
}

type Command = (args: string[], io: Io) => Promise<number>;

const run: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: { 'dry-run': { type: 'boolean' }, timeout: { type: 'string' } },
    strict: true,
  });
  const summary = await runCommand(io, {
    dryRun: values['dry-run'] ?? false,
    timeoutSec: positiveInt('timeout', values.timeout, 120),
  });
  return summary.problems.length > 0 ? 1 : 0;
};

const invoke: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      service: { type: 'string' },
      function: { type: 'string' },
      'account-id': { type: 'string' },
      region: { type: 'string' },
      qualifier: { type: 'string' },
      async: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      payload: { type: 'string' },
      endpoint: { type: 'string' },
      profile: { type: 'string' },
      timeout: { type: 'string' },
    },
    strict: true,
  });
  if (values.payload && values['dry-run']) throw new UsageError(['--payload and --dry-run cannot be combined']);
  await invokeCommand(io, {
    service: values.service,
    functionName: values.function ?? 'acr-sync-alert',
    accountId: values['account-id'],
    region: values.region,
    qualifier: values.qualifier,
    async: values.async ?? false,
    endpoint: values.endpoint,
    profile: values.profile,
    payload: values.payload ?? JSON.stringify({ dryRun: values['dry-run'] ?? false }),
    timeoutSec: positiveInt('timeout', values.timeout, 130),
  });
  return 0;
};

const preview: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: 'string' },
      lang: { type: 'string' },
      channel: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const lang = (values.lang ?? io.env.ALERT_LANG ?? 'en').toLowerCase();
  if (lang !== 'zh' && lang !== 'en') throw new UsageError(['--lang must be zh or en']);
  const channel = values.channel ?? 'both';
  if (!['dingtalk', 'slack', 'both'].includes(channel))
    throw new UsageError(['--channel must be dingtalk, slack or both']);
  const channels: ChannelName[] = channel === 'both' ? ['dingtalk', 'slack'] : [channel as ChannelName];
  await previewCommand(io, { file: values.file, lang: lang as Lang, channels, json: values.json ?? false });
  return 0;
};

const check: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: { send: { type: 'boolean' }, json: { type: 'boolean' }, ...DEPLOYMENT_OPTIONS },
    strict: true,
  });
  return checkCommand(io, values);
};

const policy: Command = async (args, io) => {
  const { values } = parseArgs({ args, options: DEPLOYMENT_OPTIONS, strict: true });
  const accountId = values['account-id'] ?? io.env.ALIBABA_CLOUD_ACCOUNT_ID;
  if (!accountId || !/^\d{6,20}$/.test(accountId))
    throw new UsageError(["--account-id (or ALIBABA_CLOUD_ACCOUNT_ID) must be the account's numeric id"]);
  const { config } = await openDeployment(io, values, { command: 'policy', changesState: false });
  io.out(JSON.stringify(ramPolicy(config, accountId), null, 2));
  return 0;
};

const COMMANDS: Record<string, Command> = {
  run,
  invoke,
  preview,
  check,
  silence: (args, io) => silenceCommand(io, args),
  state: (args, io) => stateCommand(io, args),
  policy,
};

const seeHelp = (command: string) => `(acr-sync-alert ${command} --help shows its options)`;

/** The exit code for an error a command threw: 2 for a usage or configuration error, 1 otherwise. */
function failed(err: unknown, command: string, io: Io): number {
  if (err instanceof UsageError) {
    io.err(`${err.message}\n${seeHelp(command)}`);
    return 2;
  }
  if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`usage: ${err.message}\n${seeHelp(command)}`);
    return 2;
  }
  if (err instanceof ConfigError) {
    io.err(err.message);
    return 2;
  }
  io.err(`failed: ${describeError(err)}`);
  return 1;
}

const HELP_FLAGS = ['--help', '-h'];

/** `help [command]`: the overview, or one command's usage. */
function help(topic: string | undefined, io: Io): number {
  if (topic === undefined) {
    io.out(HELP);
    return 0;
  }
  if (!Object.hasOwn(COMMAND_HELP, topic)) {
    io.err(`usage: no command "${topic}"\n\n${HELP}`);
    return 2;
  }
  io.out(commandHelp(topic));
  return 0;
}

/**
 * Runs the CLI; returns the process exit code: 0 done, 1 failed, 2 usage (a wrong option or argument, or settings
 * refused before anything was done). `<command> --help` prints that command's usage.
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.out(HELP);
    return 2;
  }
  if (command === 'help' || HELP_FLAGS.includes(command)) return help(rest[0], io);
  if (command === '--version' || command === '-V' || command === 'version') {
    io.out(packageVersion());
    return 0;
  }
  const fn = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!fn) {
    io.err(`usage: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  if (rest.some((a) => HELP_FLAGS.includes(a))) return help(command, io);
  try {
    return await fn(rest, io);
  } catch (err) {
    return failed(err, command, io);
  }
}
