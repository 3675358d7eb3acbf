import * as v from 'valibot';
import { detach } from '../lib/json.js';
import type { ImageRef, Page, SyncRule, SyncTask } from '../model/task.js';

// CR's JSON is loosely typed across APIs and versions: TotalCount is a string in ListRepoSyncTask and a number in
// ListRepoSyncRule; times are longs. Accept both forms, reject anything that is neither.
const count = v.union([
  v.pipe(v.number(), v.integer(), v.minValue(0)),
  v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number)),
]);
const millis = v.union([v.pipe(v.number(), v.minValue(0)), v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number))]);
// A value from the API is stored and shown, so no single field may be unbounded: cut, visibly, far above any real
// name, id or issue (display caps them much shorter).
export const MAX_FIELD = 1024;
// Detached from the response text: a task's strings outlive its page (ids claimed, images remembered for the run).
const capped = (s: string) => detach(s.length > MAX_FIELD ? `${s.slice(0, MAX_FIELD - 1)}…` : s);
const str = v.optional(v.nullable(v.pipe(v.string(), v.transform(capped))));
/** Epoch milliseconds this small can only be seconds: 1e11 ms is March 1973, 1e11 s is long after any sync. */
const SECONDS_BELOW = 1e11;

const imageSchema = v.object({
  InstanceId: str,
  RegionId: str,
  RepoNamespaceName: str,
  RepoName: str,
  ImageTag: str,
});

const taskSchema = v.object({
  SyncTaskId: v.pipe(v.string(), v.nonEmpty(), v.transform(capped)),
  SyncBatchTaskId: str,
  SyncRuleId: str,
  TaskStatus: v.optional(v.nullable(v.string()), ''),
  TaskIssue: str,
  TaskTrigger: str,
  CreateTime: v.optional(v.nullable(millis)),
  ModifiedTime: v.optional(v.nullable(millis)),
  ModifedTime: v.optional(v.nullable(millis)),
  CrossUser: v.optional(v.nullable(v.boolean())),
  ImageFrom: v.optional(v.nullable(imageSchema)),
  ImageTo: v.optional(v.nullable(imageSchema)),
});

const ruleSchema = v.object({
  SyncRuleId: v.pipe(v.string(), v.nonEmpty()),
  SyncRuleName: str,
  SyncScope: str,
  SyncTrigger: str,
  TagFilter: str,
  RepoNameFilter: str,
  TargetInstanceId: str,
  TargetRegionId: str,
  TargetNamespaceName: str,
  TargetRepoName: str,
});

// pop-core resolves any JSON without a non-success Code, so a gateway's `{"message":"..."}` arrives here.
const envelope = v.looseObject({
  Code: v.optional(v.string()),
  IsSuccess: v.optional(v.boolean()),
  RequestId: v.optional(v.string()),
  PageNo: v.optional(count),
  PageSize: v.optional(count),
  TotalCount: count,
});

/** The response did not have the documented shape; the message names what is wrong. */
export class MalformedResponseError extends Error {
  constructor(
    readonly action: string,
    readonly problem: string,
    readonly requestId?: string,
  ) {
    super(`${action} returned an unexpected response: ${problem}`);
    this.name = 'MalformedResponseError';
  }
}

function image(raw: v.InferOutput<typeof imageSchema> | null | undefined, fallbackInstance: string): ImageRef {
  return {
    instanceId: raw?.InstanceId ?? fallbackInstance,
    regionId: raw?.RegionId ?? '',
    namespace: raw?.RepoNamespaceName ?? '',
    repo: raw?.RepoName ?? '',
    tag: raw?.ImageTag ?? '',
  };
}

function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${v.getDotPath(i) ?? '(body)'}: expected ${i.expected ?? 'valid value'}, got ${i.received}`)
    .join('; ');
}

function parseEnvelope(action: string, listField: string, body: unknown) {
  const res = v.safeParse(envelope, body);
  const rid = typeof body === 'object' && body !== null ? (body as { RequestId?: unknown }).RequestId : undefined;
  const requestId = typeof rid === 'string' ? rid : undefined;
  if (!res.success) throw new MalformedResponseError(action, describeIssues(res.issues), requestId);
  const out = res.output;
  if (out.IsSuccess === false) throw new MalformedResponseError(action, 'IsSuccess is false', requestId);
  const list = (body as Record<string, unknown>)[listField];
  if (!Array.isArray(list))
    throw new MalformedResponseError(
      action,
      `${listField}: expected an array, got ${list === undefined ? 'nothing' : typeof list}`,
      requestId,
    );
  return { out, list: list as unknown[] };
}

/**
 * Validates each list item with `schema` and maps it; an item that fails validation, or that `map` rejects with a
 * reason, is dropped and reported rather than failing the page.
 */
function parseItems<S extends v.GenericSchema, T>(
  list: unknown[],
  field: string,
  schema: S,
  map: (x: v.InferOutput<S>) => T | string,
) {
  const items: T[] = [];
  const dropped: string[] = [];
  list.forEach((raw, i) => {
    const r = v.safeParse(schema, raw);
    if (!r.success) return void dropped.push(`${field}[${i}]: ${describeIssues(r.issues)}`);
    const item = map(r.output);
    if (typeof item === 'string') dropped.push(`${field}[${i}] ${item}`);
    else items.push(item);
  });
  return { items, dropped };
}

function page<T>(
  out: v.InferOutput<typeof envelope>,
  requested: { pageNo: number; pageSize: number },
  parsed: { items: T[]; dropped: string[] },
): Page<T> {
  return {
    ...parsed,
    received: parsed.items.length + parsed.dropped.length,
    pageNo: out.PageNo ?? requested.pageNo,
    pageSize: out.PageSize ?? requested.pageSize,
    totalCount: out.TotalCount,
    requestId: out.RequestId,
  };
}

/**
 * Parses a ListRepoSyncTask body. Throws `MalformedResponseError` when the envelope is wrong; drops (and reports in
 * `dropped`) single items that lack an id or any usable time. Reads `ModifiedTime`, falling back to the deprecated
 * `ModifedTime`; when CreateTime is absent, ModifiedTime stands in for it.
 */
export function parseTaskPage(
  body: unknown,
  instanceId: string,
  requested: { pageNo: number; pageSize: number },
): Page<SyncTask> {
  const { out, list } = parseEnvelope('ListRepoSyncTask', 'SyncTasks', body);
  return page(
    out,
    requested,
    parseItems(list, 'SyncTasks', taskSchema, (t): SyncTask | string => {
      const rawModified = t.ModifiedTime ?? t.ModifedTime ?? undefined;
      const rawCreated = t.CreateTime ?? rawModified;
      if (rawCreated === undefined || rawCreated === null)
        return `(${t.SyncTaskId.slice(0, 80)}): no CreateTime or ModifiedTime`;
      // A time in seconds is read as the moment it means, and flagged: it is announced, but never trusted to move the
      // scan's watermark.
      const seconds = rawCreated < SECONDS_BELOW;
      const ms = (x: number) => (x < SECONDS_BELOW ? x * 1000 : x);
      const created = ms(rawCreated);
      const modified = rawModified === undefined || rawModified === null ? undefined : ms(rawModified);
      return {
        taskId: t.SyncTaskId,
        batchId: t.SyncBatchTaskId ?? undefined,
        ruleId: t.SyncRuleId ?? undefined,
        status: (t.TaskStatus ?? '').toUpperCase(),
        issue: t.TaskIssue ?? '',
        trigger: t.TaskTrigger ?? '',
        createTime: created,
        modifiedTime: modified,
        crossUser: t.CrossUser ?? false,
        from: image(t.ImageFrom, instanceId),
        to: image(t.ImageTo, ''),
        ...(seconds ? { timeInSeconds: true } : {}),
      };
    }),
  );
}

/** Parses a ListRepoSyncRule body; same contract as `parseTaskPage`. */
export function parseRulePage(body: unknown, requested: { pageNo: number; pageSize: number }): Page<SyncRule> {
  const { out, list } = parseEnvelope('ListRepoSyncRule', 'SyncRules', body);
  return page(
    out,
    requested,
    parseItems(list, 'SyncRules', ruleSchema, (x): SyncRule => ({
      ruleId: x.SyncRuleId,
      name: x.SyncRuleName ?? '',
      scope: x.SyncScope ?? '',
      trigger: x.SyncTrigger ?? undefined,
      tagFilter: x.TagFilter ?? undefined,
      repoNameFilter: x.RepoNameFilter ?? undefined,
      targetInstanceId: x.TargetInstanceId ?? undefined,
      targetRegionId: x.TargetRegionId ?? undefined,
      targetNamespace: x.TargetNamespaceName ?? undefined,
      targetRepo: x.TargetRepoName ?? undefined,
    })),
  );
}
