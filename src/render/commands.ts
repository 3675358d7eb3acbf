import type { FunctionRef } from '../model/route.js';
import type { FailureGroup, RerunImage } from './content.js';
import { shellSafe } from './text.js';

/** What a re-run command needs beyond `aliyun` and `jq`; a message names them once. */
export const RERUN_RAM_ACTIONS = ['cr:GetRepository', 'cr:CreateRepositorySync'] as const;

/**
 * Longest re-run command a message carries: a group with more images re-runs the newest that fit. Keeps one command
 * well inside a Slack section (3,000 characters) and a DingTalk message.
 */
export const COMMAND_MAX = 1_600;

/** One re-run command and the rule kind it is for. */
export interface Rerun {
  kind: 'manual' | 'automatic';
  /** The documented call it makes. */
  api: 'CreateRepoSyncTaskByRule' | 'CreateRepoSyncTask';
  command: string;
  /** How many of the group's images it re-runs. */
  images: number;
}

/** The re-run call for one image: the words an image contributes, and the call built from them. */
interface Call {
  args: (i: RerunImage) => string[];
  /** Namespace, repository and tag of the source, then (automatic rules) those of the target. */
  call: (n: string, r: string, t: string, more: string[]) => string;
}

// Why two calls: CreateRepoSyncTaskByRule is documented for manual rules (SyncTrigger INITIATIVE) only
// (https://help.aliyun.com/document_detail/451340.htm); an automatic rule's image is re-synced with CreateRepoSyncTask,
// which names the target from ImageTo (https://help.aliyun.com/document_detail/308342.htm). Both take the source
// repository's id, which GetRepository resolves from namespace and name.
function bodies(g: FailureGroup, kind: Rerun['kind']): Call | undefined {
  const [region = '', instance = ''] = g.source.split(':');
  const { regionId: toRegion, instanceId: toInstance } = g.target;
  if (![region, instance].every(shellSafe)) return undefined;
  const repoId = (n: string, r: string) =>
    `id=$(aliyun cr GetRepository --region ${region} --InstanceId ${instance} ` +
    `--RepoNamespaceName ${n} --RepoName ${r} | jq -er .RepoId)`;
  if (kind === 'manual') {
    if (!shellSafe(g.ruleId)) return undefined;
    return {
      args: (i) => [i.namespace, i.repo, i.tag],
      call: (n, r, t) =>
        `${repoId(n, r)} && aliyun cr CreateRepoSyncTaskByRule --region ${region} --InstanceId ${instance} ` +
        `--SyncRuleId ${g.ruleId} --RepoId "$id" --Tag ${t}`,
    };
  }
  // Across accounts CreateRepoSyncTask also needs the target account's UID, which no task or rule field gives.
  if (g.crossUser || ![toRegion, toInstance].every(shellSafe)) return undefined;
  return {
    args: (i) => [i.namespace, i.repo, i.tag, i.to.namespace, i.to.repo, i.to.tag],
    call: (n, r, t, [tn, tr, tt]) =>
      `${repoId(n, r)} && aliyun cr CreateRepoSyncTask --region ${region} --InstanceId ${instance} ` +
      `--RepoId "$id" --Tag ${t} --TargetRegionId ${toRegion} --TargetInstanceId ${toInstance} ` +
      `--TargetNamespace ${tn} --TargetRepoName ${tr} --TargetTag ${tt}`,
  };
}

/**
 * The command that re-runs the group's failed images for a rule of `kind`: one call for one image, else a loop over
 * the newest images that fit in COMMAND_MAX. Built only from shell-safe names (the content keeps only those), so it
 * can be pasted as it is; undefined when a part is not shell-safe, or the call cannot be built (see `bodies`).
 */
export function rerunFor(g: FailureGroup, kind: Rerun['kind']): Rerun | undefined {
  const b = bodies(g, kind);
  if (!b || g.images.length === 0) return undefined;
  const api = kind === 'manual' ? 'CreateRepoSyncTaskByRule' : 'CreateRepoSyncTask';
  if (g.images.length === 1) {
    const [n, r, t, ...more] = b.args(g.images[0]!) as [string, string, string, ...string[]];
    return { kind, api, command: b.call(n, r, t, more), images: 1 };
  }
  // A loop over positional parameters: POSIX sh, no globbing characters, nothing a markdown renderer would take.
  const width = b.args(g.images[0]!).length;
  const call = b.call('"$1"', '"$2"', '"$3"', ['"$4"', '"$5"', '"$6"']);
  const body = `while [ $# -gt 0 ]; do ${call}; shift ${width}; done)`;
  const words: string[] = [];
  let images = 0;
  for (const i of g.images) {
    const next = [...words, ...b.args(i)];
    if (images > 0 && `(set -- ${next.join(' ')}; ${body}`.length > COMMAND_MAX) break;
    words.splice(0, words.length, ...next);
    images += 1;
  }
  return { kind, api, command: `(set -- ${words.join(' ')}; ${body}`, images };
}

/** The re-run commands to offer: the one for the rule's trigger, or, when the trigger is unknown, one per kind. */
export function rerunsOf(g: FailureGroup): Rerun[] {
  const trigger = g.rule?.trigger;
  const kinds: Rerun['kind'][] =
    trigger === 'INITIATIVE' ? ['manual'] : trigger === 'PASSIVE' ? ['automatic'] : ['manual', 'automatic'];
  return kinds.map((k) => rerunFor(g, k)).filter((r): r is Rerun => r !== undefined);
}

/**
 * The operator command that mutes this group (its source instance, rule and cause) for two hours, or undefined when
 * a value is not shell-safe. `comment` is the placeholder the reader replaces, kept last. With the `deployment` that
 * sent the message it names that function (`--function NAME --region R`): pasted anywhere, it writes the silence into
 * the state that deployment reads (without them the CLI would ask which deployment, or write a local file).
 */
export function silenceCommand(g: FailureGroup, comment: string, deployment?: FunctionRef): string | undefined {
  const [region, instance] = g.source.split(':');
  const cause = g.cause || 'UNCLASSIFIED';
  if (!shellSafe(region) || !shellSafe(instance) || !shellSafe(cause)) return undefined;
  if (g.ruleId !== '' && !shellSafe(g.ruleId)) return undefined;
  const rule = g.ruleId ? ` --rule ${g.ruleId}` : '';
  const where =
    deployment && shellSafe(deployment.name) && shellSafe(deployment.region)
      ? ` --function ${deployment.name} --region ${deployment.region}`
      : '';
  return (
    `acr-sync-alert silence add --instance ${region}:${instance}${rule} ` +
    `--cause ${cause} --for 2h${where} --comment "${comment}"`
  );
}
