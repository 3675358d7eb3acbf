import { classify } from '../model/classify.js';
import { SEVERITY_RANK } from '../model/issue.js';
import {
  isFailure,
  type Alert,
  type DigestAlert,
  type FailureAlert,
  type MonitorAlert,
  type RecoveryAlert,
  type StuckAlert,
} from '../model/alert.js';
import { apiText, shellSafe } from './text.js';

/** Failures kept as examples per group; the rest are counted. */
export const EXAMPLES_PER_GROUP = 10;
/** Distinct images kept per group for its re-run loop (newest first). */
export const IMAGES_PER_GROUP = 20;
/** Recovered, stuck and finished items kept per message; the rest are counted. */
export const ITEMS_PER_SECTION = 10;
/**
 * Failure groups kept per message. Real bursts have a few dozen (rules × causes); past this a hostile or broken
 * feed (a different TaskIssue on every task) is only counted, so memory stays bounded whatever arrives.
 */
export const MAX_GROUPS = 300;

/** A failed image a re-run loop can name: every part is shell-safe. */
export interface RerunImage {
  namespace: string;
  repo: string;
  tag: string;
  to: { namespace: string; repo: string; tag: string };
  at: number;
}

/** The failures of one sync rule to one target instance for one cause: a rollup line's worth. */
export interface FailureGroup {
  /** The rule's id, '' when the task named none. */
  ruleId: string;
  /** What the alerts knew of the rule (name, scope, trigger), when it could be read. */
  rule?: FailureAlert['rule'];
  /** `regionId:instanceId` of the source instance. */
  source: string;
  target: { regionId: string; instanceId: string };
  /** The TaskIssue as classified ('' when the API gave none), at most FIELD_MAX long. */
  cause: string;
  count: number;
  /** Earliest and latest failure time (ModifiedTime, else CreateTime) in the group. */
  firstAt: number;
  lastAt: number;
  /** Whether any task of the group crossed accounts (a re-run through CreateRepoSyncTask then needs the target UID). */
  crossUser: boolean;
  /** The newest failures of the group, at most EXAMPLES_PER_GROUP. */
  examples: FailureAlert[];
  /** The newest distinct shell-safe images of the group, at most IMAGES_PER_GROUP. */
  images: RerunImage[];
}

/**
 * What one message says, whatever the number of alerts it covers: failures rolled up by rule, target and cause (most
 * severe first, then largest), recovered, stuck and finished syncs (a bounded number kept), notices about the
 * function's own sight of instances, and digests. Its size is bounded by the number of groups, not alerts.
 */
export interface MessageContent {
  groups: FailureGroup[];
  failureCount: number;
  /** Failures beyond MAX_GROUPS groups: counted, not grouped. */
  ungrouped: number;
  recovered: RecoveryAlert[];
  recoveredCount: number;
  /** Syncs running too long, oldest first. */
  stuck: StuckAlert[];
  stuckCount: number;
  /** Syncs announced as stuck that have finished since, oldest first. */
  finished: StuckAlert[];
  finishedCount: number;
  notices: MonitorAlert[];
  digests: DigestAlert[];
  /** Every alert id the content covers, for the message's idempotency key. */
  ids: string[];
  /** More is owed to the channel than this message covers: the rest follows in the next one. */
  more?: boolean;
}

/** When a task last changed (its ModifiedTime, else its CreateTime): the time a failure is shown and sorted by. */
export const failureTime = (a: FailureAlert | RecoveryAlert | StuckAlert) => a.task.modifiedTime ?? a.task.createTime;
const newestFirst = (x: FailureAlert | RecoveryAlert, y: FailureAlert | RecoveryAlert) =>
  y.task.createTime - x.task.createTime || x.id.localeCompare(y.id);
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
 * Adds the failed image to the group's re-run list: each image once, newest kept, only names a shell takes literally.
 */
function keepImage(g: FailureGroup, a: FailureAlert, at: number): void {
  // Most alerts of a burst are older than every image kept: skip them before any string work.
  if (g.images.length >= IMAGES_PER_GROUP && at <= g.images[g.images.length - 1]!.at) return;
  const { from, to } = a.task;
  if (![from.namespace, from.repo, from.tag, to.namespace, to.repo, to.tag].every(shellSafe)) return;
  const same = g.images.findIndex(
    (x) =>
      x.namespace === from.namespace &&
      x.repo === from.repo &&
      x.tag === from.tag &&
      x.to.namespace === to.namespace &&
      x.to.repo === to.repo,
  );
  if (same >= 0) {
    if (g.images[same]!.at >= at) return;
    g.images.splice(same, 1);
  }
  const image = {
    namespace: from.namespace,
    repo: from.repo,
    tag: from.tag,
    to: { namespace: to.namespace, repo: to.repo, tag: to.tag },
    at,
  };
  keepTop(g.images, image, IMAGES_PER_GROUP, (x, y) => y.at - x.at);
}

/**
 * Builds a message's content from alerts added one at a time, keeping only what a message can show: memory grows
 * with the number of failure groups and alert ids, not with the alerts themselves.
 */
export class ContentBuilder {
  private readonly groups = new Map<string, FailureGroup>();
  // A burst repeats a handful of TaskIssues thousands of times: clean each distinct one once.
  private readonly causes = new Map<string, string>();
  private readonly c: MessageContent = {
    groups: [],
    failureCount: 0,
    ungrouped: 0,
    recovered: [],
    recoveredCount: 0,
    stuck: [],
    stuckCount: 0,
    finished: [],
    finishedCount: 0,
    notices: [],
    digests: [],
    ids: [],
  };

  /** Counts `a` in, keeping it only if it ranks among what a message can show; returns the builder. */
  add(a: Alert): this {
    this.c.ids.push(a.id);
    if (isFailure(a)) this.addFailure(a);
    else if (a.kind === 'recovered') {
      this.c.recoveredCount += 1;
      keepTop(this.c.recovered, a, ITEMS_PER_SECTION, newestFirst);
    } else if (a.kind === 'stuck') {
      this.c.stuckCount += 1;
      keepTop(this.c.stuck, a, ITEMS_PER_SECTION, oldestFirst);
    } else if (a.kind === 'unstuck') {
      this.c.finishedCount += 1;
      keepTop(this.c.finished, a, ITEMS_PER_SECTION, oldestFirst);
    } else if (a.kind === 'blind' || a.kind === 'restored') {
      this.c.notices.push(a);
    } else if (a.kind === 'digest') {
      this.c.digests.push(a);
    }
    return this;
  }

  private addFailure(a: FailureAlert): void {
    this.c.failureCount += 1;
    // A TaskIssue is free text from the API: a capped key keeps a 20k-character one from being held per group.
    let cause = this.causes.get(a.task.issue);
    if (cause === undefined) {
      cause = apiText(classify(a.task.issue).issue);
      if (this.causes.size < MAX_GROUPS) this.causes.set(a.task.issue, cause);
    }
    const ruleId = a.task.ruleId ?? '';
    const target = { regionId: a.task.to.regionId, instanceId: a.task.to.instanceId };
    const key = `${a.instance}\n${ruleId}\n${target.regionId}/${target.instanceId}\n${cause}`;
    const at = failureTime(a);
    let g = this.groups.get(key);
    if (!g) {
      if (this.groups.size >= MAX_GROUPS) {
        this.c.ungrouped += 1;
        return;
      }
      g = {
        ruleId,
        rule: a.rule,
        source: a.instance,
        target,
        cause,
        count: 0,
        firstAt: at,
        lastAt: at,
        crossUser: false,
        examples: [],
        images: [],
      };
      this.groups.set(key, g);
    }
    g.count += 1;
    g.rule ??= a.rule;
    g.crossUser ||= a.task.crossUser;
    g.firstAt = Math.min(g.firstAt, at);
    g.lastAt = Math.max(g.lastAt, at);
    keepTop(g.examples, a, EXAMPLES_PER_GROUP, newestFirst);
    keepImage(g, a, at);
  }

  /** The content so far, groups most severe first, then largest; a copy the builder does not change afterwards. */
  build(): MessageContent {
    const severity = (g: FailureGroup) => SEVERITY_RANK[classify(g.cause).severity];
    const groups = [...this.groups.values()].sort(
      (x, y) =>
        severity(x) - severity(y) ||
        y.count - x.count ||
        x.cause.localeCompare(y.cause) ||
        x.source.localeCompare(y.source) ||
        x.ruleId.localeCompare(y.ruleId),
    );
    const notices = [...this.c.notices].sort((x, y) => x.at - y.at || x.id.localeCompare(y.id));
    return {
      ...this.c,
      groups,
      notices,
      recovered: [...this.c.recovered],
      stuck: [...this.c.stuck],
      finished: [...this.c.finished],
      digests: [...this.c.digests],
      ids: [...this.c.ids],
    };
  }
}

/** The content of a message holding `alerts`. */
export const contentOf = (alerts: Iterable<Alert>): MessageContent => {
  const b = new ContentBuilder();
  for (const a of alerts) b.add(a);
  return b.build();
};
