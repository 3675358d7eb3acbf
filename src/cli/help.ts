/** The usage text: one per command (`acr-sync-alert <command> --help`) and the overview (`acr-sync-alert help`). */

const DEPLOYMENT = `The deployment (for check, silence, state, policy):
  --function <name> --region <id>   read the deployed FC 3.0 function's settings (its Tablestore table) through
                                    Function Compute (GetFunction); --qualifier <version or alias>
  (without --function)              the settings in the environment (TABLESTORE_ENDPOINT, ...; see README.md)
  --local                           allow the local state file (STATE_FILE) for a command that changes the state
  --profile <name>                  credentials of that aliyun CLI profile (~/.aliyun/config.json); by default
                                    ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN, then the aliyun CLI's
                                    current profile, then an ECS RAM role
  --account-id <id>                 use the account's FC endpoint; --endpoint <url> overrides the FC endpoint`;

const EXIT = `Exit codes: 0 done; 1 failed (a run reported problems, the cloud refused, a test message was refused);
2 usage (a wrong option or argument, or settings refused before anything was done).`;

/** Each command's usage, printed by `acr-sync-alert <command> --help`. */
export const COMMAND_HELP: Record<string, string> = {
  run: `acr-sync-alert run [--dry-run] [--timeout <sec>]

Runs once here, against the CR OpenAPI and the state store the environment configures, with credentials from
ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN.
  --dry-run          print the messages instead of posting; save no state; no channel needed
  --timeout <sec>    time budget (default 120)`,
  invoke: `acr-sync-alert invoke --function <name> --region <id> [options]

Triggers the deployed function now with a timer-shaped event; prints its summary (sync) or request id (async).
An FC 3.0 function (what s.yaml deploys) is invoked through the 2023-03-30 API at <account-id>.<region>.fc.aliyuncs.com;
without --account-id the account is read from the function's ARN (GetFunction: RAM fc:GetFunction as well as
fc:InvokeFunction). With --service, a function in an FC 2.0 service through the 2016-08-15 API (needs --account-id).
  --function <name>  function name (default acr-sync-alert)
  --region <id>      (or ALIBABA_CLOUD_REGION_ID)       --account-id <id> (or ALIBABA_CLOUD_ACCOUNT_ID)
  --service <name>   FC 2.0 only: the service holding the function
  --qualifier <q>    version or alias                    --async   queue it and return at once
  --dry-run          the function logs its messages instead of posting
  --payload <json>   trigger payload (default {"dryRun":false})
  --profile <name>   credentials of that aliyun CLI profile (default: the credential chain, see help)
  --endpoint <url>   FC endpoint override               --timeout <sec> (default 130)`,
  preview: `acr-sync-alert preview [--file <path>] [--lang zh|en] [--channel dingtalk|slack|both] [--json]

Renders the messages for a JSON file of tasks, or for a built-in sample, with no network.
  --file <path>      a ListRepoSyncTask response or an array of SyncTasks items (a SyncRules array names rules)
  --lang zh|en       (default: ALERT_LANG or en)
  --channel dingtalk|slack|both (default both)        --json   print the raw payloads`,
  check: `acr-sync-alert check [--send] [--json] [--function <name> --region <region> [--profile <name>]]

Tries everything a run needs, one line each, ✓ or ✗ with what to change: the configuration (a setting that only looks
like ours is an error, naming the nearest real one), CR credentials and each instance (its sync tasks and rules, one
item each), the state table (a read of one row, and a conditional write that cannot apply), and each channel.
  --send             post a test message to each channel (without it only the webhook's form is checked)
  --json             print the checks as JSON
  --function <name> --region <region>   check the deployed function's settings (read through Function Compute)
  --profile <name>   credentials of that aliyun CLI profile (default: the credential chain, see help)
CR and Tablestore are tried with your credentials, not the function's role. Exit 0 when every line is ✓, 1 otherwise.`,
  silence: `acr-sync-alert silence: mute alerts from the command line, kept in the deployment's state table

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

Each takes the deployment options below (add and expire refuse a local state file without --local).
A silence takes effect at the next run. It needs the state table's read and write permissions (see \`policy\`).

${DEPLOYMENT}`,
  state: `acr-sync-alert state [--json] [--move-again]

Where the state is kept and what it came from.
  --json             print it as one JSON object
  --move-again       after rolling back to a release that kept one document and coming back: the next run moves
                     what that release did into rows (changes the state: refuses a local file without --local)

${DEPLOYMENT}`,
  policy: `acr-sync-alert policy [--account-id <id>] [deployment options]

Prints the least-privilege RAM policy for this configuration: the CR reads on each instance in ACR_INSTANCES, the
Tablestore actions on TABLESTORE_TABLE.
  --account-id <id>  (or ALIBABA_CLOUD_ACCOUNT_ID)

${DEPLOYMENT}`,
};

const SUMMARY: [string, string][] = [
  ['run', 'run once here, with the environment’s settings and credentials (--dry-run prints instead)'],
  ['invoke', 'trigger the deployed function now through Function Compute (FC 3.0; FC 2.0 with --service)'],
  ['preview', 'render the messages for a file of tasks, or a built-in sample; no network'],
  ['check', 'try everything a run needs (settings, CR, the state table, channels), ✓ or ✗ with the fix'],
  ['silence', 'add, list and expire silences in the deployment’s state (like amtool)'],
  ['state', 'where the state is kept and what it came from'],
  ['policy', 'print the least-privilege RAM policy for this configuration'],
  ['help', 'this text; `help <command>` or `<command> --help` for one command'],
];

/** The overview: every command in a line, where settings and credentials come from, the exit codes. */
export const HELP = `acr-sync-alert: announces failed ACR EE image syncs to DingTalk and Slack

Usage: acr-sync-alert <command> [options]      acr-sync-alert <command> --help      acr-sync-alert --version

Commands:
${SUMMARY.map(([c, s]) => `  ${c.padEnd(9)} ${s}`).join('\n')}

${DEPLOYMENT}

${EXIT}
Settings are environment variables, as the function reads them; see README.md and docs/operations.md.`;

/** The usage of `command`, ending with the exit codes. */
export const commandHelp = (command: string) => `${COMMAND_HELP[command]}\n\n${EXIT}`;
