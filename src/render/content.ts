import { classify, SEVERITY_RANK } from '../detect/classify.js';
import { isFailure, type Alert, type DigestAlert, type FailureAlert, type MonitorAlert, type RecoveryAlert, type StuckAlert } from '../model/alert.js';

/** Failures kept as examples per group; the rest are counted. */
export const EXAMPLES_PER_GROUP = 10;
/** Recovered and stuck items kept per message; the rest are counted. */
export const ITEMS_PER_SECTION = 10;

/** The failures of one sync rule to one target instance for one cause: a rollup line's worth. */
export interface FailureGroup {
  /** The rule's id, '' when the task named none. */
  ruleId: string;
  /** What the alerts knew of the rule (name, scope), when it could be read. */
  rule?: FailureAlert['rule'];
  /** `regionId:instanceId` of the source instance. */
  source: string;
  target: { regionId: string; instanceId: string };
  /** The TaskIssue as classified ('' for an unclassified failure). */
  cause: string;
  count: number;
  /** Earliest and latest failure time (ModifiedTime, else CreateTime) in the group. */
  firstAt: number;
  lastAt: number;
  /** The newest failures of the group, at most EXAMPLES_PER_GROUP. */
  examples: FailureAlert[];
}

/**
 * What one message says, whatever the number of alerts it covers: failures rolled up by rule, target and cause (most
 * severe first, then largest), recovered and stuck syncs (newest and oldest first, a bounded number kept), notices
 * about the function's own sight of instances, and digests. Its size is bounded by the number of groups, not alerts.
 */
export interface MessageContent {
  groups: FailureGroup[];
  failureCount: number;
  recovered: RecoveryAlert[];
  recoveredCount: number;
  /** Stuck syncs, and stuck syncs that finished (`unstuck`). */
  stuck: StuckAlert[];
  stuckCount: number;
  notices: MonitorAlert[];
  digests: DigestAlert[];
  /** Every alert id the content covers, for the message's idempotency key. */
  ids: string[];
}

export const failureTime = (a: FailureAlert | RecoveryAlert | StuckAlert) => a.task.modifiedTime ?? a.task.createTime;
const newestFirst = (x: FailureAlert | RecoveryAlert, y: FailureAlert | RecoveryAlert) => y.task.createTime - x.task.createTime || x.id.localeCompare(y.id);
const oldestFirst = (x: StuckAlert, y: StuckAlert) => x.task.createTime - y.task.createTime || x.id.localeCompare(y.id);

/** Keeps `list` sorted by `order` and at most `max` long, with `item` in its place if it ranks. */
function keepTop<T>(list: T[], item: T, max: number, order: (a: T, b: T) => number): void {
  if (list.length >= max && order(item, list[list.length - 1]!) >= 0) return;
  let i = list.length;
  while (i > 0 && order(item, list[i - 1]!) < 0) i--;
  list.splice(i, 0, item);
  if (list.length > max) list.pop();
}

/**
 * Builds a message's content from alerts added one at a time, keeping only what a message can show: memory grows
 * with the number of failure groups and alert ids, not with the alerts themselves.
 */
export class ContentBuilder {
  private readonly groups = new Map<string, FailureGroup>();
  private readonly c: MessageContent = { groups: [], failureCount: 0, recovered: [], recoveredCount: 0, stuck: [], stuckCount: 0, notices: [], digests: [], ids: [] };

  add(a: Alert): this {
    this.c.ids.push(a.id);
    if (isFailure(a)) {
      const cause = classify(a.task.issue).issue;
      const ruleId = a.task.ruleId ?? '';
      const target = { regionId: a.task.to.regionId, instanceId: a.task.to.instanceId };
      const key = `${a.instance}\n${ruleId}\n${target.regionId}/${target.instanceId}\n${cause}`;
      const at = failureTime(a);
      let g = this.groups.get(key);
      if (!g) {
        g = { ruleId, rule: a.rule, source: a.instance, target, cause, count: 0, firstAt: at, lastAt: at, examples: [] };
        this.groups.set(key, g);
      }
      g.count += 1;
      g.rule ??= a.rule;
      g.firstAt = Math.min(g.firstAt, at);
      g.lastAt = Math.max(g.lastAt, at);
      keepTop(g.examples, a, EXAMPLES_PER_GROUP, newestFirst);
      this.c.failureCount += 1;
    } else if (a.kind === 'recovered') {
      this.c.recoveredCount += 1;
      keepTop(this.c.recovered, a, ITEMS_PER_SECTION, newestFirst);
    } else if (a.kind === 'stuck' || a.kind === 'unstuck') {
      this.c.stuckCount += 1;
      keepTop(this.c.stuck, a, ITEMS_PER_SECTION, oldestFirst);
    } else if (a.kind === 'blind' || a.kind === 'restored') {
      this.c.notices.push(a);
    } else if (a.kind === 'digest') {
      this.c.digests.push(a);
    }
    return this;
  }

  build(): MessageContent {
    const severity = (g: FailureGroup) => SEVERITY_RANK[classify(g.cause).severity];
    const groups = [...this.groups.values()].sort(
      (x, y) => severity(x) - severity(y) || y.count - x.count || x.cause.localeCompare(y.cause) || x.source.localeCompare(y.source) || x.ruleId.localeCompare(y.ruleId),
    );
    const notices = [...this.c.notices].sort((x, y) => x.at - y.at || x.id.localeCompare(y.id));
    return { ...this.c, groups, notices, recovered: [...this.c.recovered], stuck: [...this.c.stuck], digests: [...this.c.digests], ids: [...this.c.ids] };
  }
}

/** The content of a message holding `alerts`. */
export const contentOf = (alerts: Iterable<Alert>): MessageContent => {
  const b = new ContentBuilder();
  for (const a of alerts) b.add(a);
  return b.build();
};
