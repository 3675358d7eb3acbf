import { parseArgs } from 'node:util';
import { ConfigError, describeError } from '../lib/errors.js';
import type { ChannelName, Lang } from '../model/lang.js';
import { readConfig } from '../config/config.js';
import { checkCommand, invokeCommand, runCommand, type Io } from './commands.js';
import { previewCommand } from './preview.js';
import { ramPolicy } from './policy.js';
import { silenceCommand } from './silence.js';
import { stateCommand } from './inspect-state.js';

export const HELP = `acr-sync-alert: announces failed ACR EE image syncs to DingTalk and Slack

Usage: acr-sync-alert <command> [options]

Commands:
  run       Run once here, against the CR OpenAPI and state store the environment configures,
            with credentials from ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN.
              --dry-run          print the messages instead of posting; save no state
              --timeout <sec>    time budget (default 120)
  invoke    Trigger the deployed function now through Function Compute (@alicloud/fc2, API 2016-08-15).
              --service <name>   FC service holding the function (required by this API)
              --function <name>  function name (default acr-sync-alert)
              --account-id <id>  (or ALIBABA_CLOUD_ACCOUNT_ID)   --region <id> (or ALIBABA_CLOUD_REGION_ID)
              --qualifier <q>    version or alias     --async   queue it and return at once
              --dry-run          the function logs its messages instead of posting
              --payload <json>   trigger payload (default {"dryRun":false})
              --endpoint <url>   FC endpoint override   --timeout <sec> (default 130)
  preview   Render the messages for a JSON file of tasks, or for a built-in sample, with no network.
              --file <path>      a ListRepoSyncTask response or an array of SyncTasks items
              --lang zh|en       (default: ALERT_LANG or en)
              --channel dingtalk|slack|both (default both)   --json   print the raw payloads
  check     Validate the configuration, list the routes in matching order, and send a test message
            to each webhook of each route; reports DingTalk keyword, signature and IP-list
            refusals (310000) before a real alert.
  silence   Mute alerts from the command line, kept in the state table (like amtool):
              silence add --rule crsr-… --cause TAG_CONFLICT --for 2h --comment "why"
              silence list [--expired]     silence expire <id>
            (acr-sync-alert silence help for every option)
  state     Where the state is kept and what it came from.
              --move-again       after rolling back to a release that kept one document and coming
                                 back: the next run moves what that release did into rows
  policy    Print the least-privilege RAM policy for this configuration: the CR reads on each
            instance in ACR_INSTANCES, the Tablestore actions on TABLESTORE_TABLE.
              --account-id <id>  (or ALIBABA_CLOUD_ACCOUNT_ID)
  help      This text.

Configuration is read from environment variables; see README.md.
`;

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new ConfigError([`--${name} must be a positive whole number of seconds`]);
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
      timeout: { type: 'string' },
    },
    strict: true,
  });
  if (values.payload && values['dry-run']) throw new ConfigError(['--payload and --dry-run cannot be combined']);
  await invokeCommand(io, {
    service: values.service,
    functionName: values.function ?? 'acr-sync-alert',
    accountId: values['account-id'],
    region: values.region,
    qualifier: values.qualifier,
    async: values.async ?? false,
    endpoint: values.endpoint,
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
  if (lang !== 'zh' && lang !== 'en') throw new ConfigError(['--lang must be zh or en']);
  const channel = values.channel ?? 'both';
  if (!['dingtalk', 'slack', 'both'].includes(channel))
    throw new ConfigError(['--channel must be dingtalk, slack or both']);
  const channels: ChannelName[] = channel === 'both' ? ['dingtalk', 'slack'] : [channel as ChannelName];
  await previewCommand(io, { file: values.file, lang: lang as Lang, channels, json: values.json ?? false });
  return 0;
};

const check: Command = async (args, io) => {
  parseArgs({ args, options: {}, strict: true });
  return (await checkCommand(io)) > 0 ? 1 : 0;
};

const policy: Command = async (args, io) => {
  const { values } = parseArgs({ args, options: { 'account-id': { type: 'string' } }, strict: true });
  const accountId = values['account-id'] ?? io.env.ALIBABA_CLOUD_ACCOUNT_ID;
  if (!accountId || !/^\d{6,20}$/.test(accountId))
    throw new ConfigError(["--account-id (or ALIBABA_CLOUD_ACCOUNT_ID) must be the account's numeric id"]);
  io.out(JSON.stringify(ramPolicy(readConfig(io.env, { requireChannel: false }), accountId), null, 2));
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

/** The exit code for an error a command threw: 2 for a usage or configuration error (with usage), 1 otherwise. */
function failed(err: unknown, io: Io): number {
  if (err instanceof ConfigError) {
    io.err(err.message);
    return 2;
  }
  if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`${err.message}\n\n${HELP}`);
    return 2;
  }
  io.err(`failed: ${describeError(err)}`);
  return 1;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failed, 2 usage or configuration error). */
export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || ['help', '--help', '-h'].includes(command)) {
    io.out(HELP);
    return command === undefined ? 2 : 0;
  }
  const fn = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!fn) {
    io.err(`unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await fn(rest, io);
  } catch (err) {
    return failed(err, io);
  }
}
