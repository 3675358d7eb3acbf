/** The local CR server's two actions, ListRepoSyncTask and ListRepoSyncRule: filters, order, pages. */
import { createHash, randomUUID } from 'node:crypto';
import type { RawTask, SimInstance, CrSimOptions } from './cr-model.js';
import {
  NO_PRIVILEGE,
  playFault,
  refuse,
  send,
  type Action,
  type ArmedFault,
  type Exchange,
  type SimState,
} from './cr-answers.js';

const CREATE = (t: RawTask) => Number(t.CreateTime ?? t.ModifiedTime ?? 0);
// A stable pseudo-random position per task: the same order on every page of every call.
const hash = (s: string) => createHash('md5').update(s).digest().readInt32BE(0);

function ordered(tasks: RawTask[], order: CrSimOptions['order']): RawTask[] {
  if (order === 'asc')
    return [...tasks].sort((a, b) => CREATE(a) - CREATE(b) || a.SyncTaskId.localeCompare(b.SyncTaskId));
  if (order === 'shuffle') return [...tasks].sort((a, b) => hash(a.SyncTaskId) - hash(b.SyncTaskId));
  const newestFirst = (a: RawTask, b: RawTask) => CREATE(b) - CREATE(a) || b.SyncTaskId.localeCompare(a.SyncTaskId);
  // A list already newest first is served as it is: sorting it again for every page would make serving a long
  // history cost a sort per page.
  if (tasks.every((t, i) => i === 0 || newestFirst(tasks[i - 1]!, t) <= 0)) return tasks;
  return [...tasks].sort(newestFirst);
}

function takeFault(s: SimState, action: Action, x: Exchange, pageNo: number): ArmedFault | undefined {
  const fault = s.faults.find(
    (f) =>
      f.left > 0 &&
      (!f.action || f.action === action) &&
      (!f.instanceId || f.instanceId === x.params.InstanceId) &&
      (!f.pageNo || f.pageNo === pageNo),
  );
  if (fault) fault.left -= 1;
  return fault;
}

interface Page {
  pageNo: number;
  size: number;
  from: number;
}

function pageOf(s: SimState, x: Exchange, pageNo: number, repeat: boolean): Page {
  const asked = Math.max(1, Number(x.params.PageSize ?? 30));
  const size = Math.min(asked, s.options.maxPageSize ?? 100);
  const served = repeat ? Math.max(1, pageNo - 1) : pageNo;
  return { pageNo, size, from: (Math.max(1, served) - 1) * size };
}

/** The tasks a ListRepoSyncTask names, by its documented filters: one push's tasks (SyncRecordId), or one image's. */
function tasksAsked(tasks: RawTask[], params: Record<string, string>): RawTask[] {
  const filtered =
    params.SyncRecordId !== undefined ||
    params.RepoNamespaceName !== undefined ||
    params.RepoName !== undefined ||
    params.Tag !== undefined;
  if (!filtered) return tasks;
  const image = (t: RawTask) => (t.ImageFrom ?? {}) as Record<string, unknown>;
  return tasks.filter(
    (t) =>
      (params.SyncRecordId === undefined || t.SyncBatchTaskId === params.SyncRecordId) &&
      (params.RepoNamespaceName === undefined || image(t).RepoNamespaceName === params.RepoNamespaceName) &&
      (params.RepoName === undefined || image(t).RepoName === params.RepoName) &&
      (params.Tag === undefined || image(t).ImageTag === params.Tag),
  );
}

/** A list answer as CR words it: the envelope (request id, Code "success", page), then TotalCount and the items. */
function sendPage(x: Exchange, page: Page, items: Record<string, unknown>): void {
  send(x, 200, {
    RequestId: randomUUID().toUpperCase(),
    Code: 'success',
    IsSuccess: true,
    PageNo: page.pageNo,
    PageSize: page.size,
    ...items,
  });
}

/** ListRepoSyncTask: one page, with TotalCount as a string (the API's quirk) and as `totalCount` has it say. */
function listTasks(s: SimState, x: Exchange, inst: SimInstance, page: Page): void {
  const list = tasksAsked(ordered(inst.tasks, s.options.order), x.params);
  const lastFrom = Math.max(0, Math.ceil(list.length / page.size) - 1) * page.size;
  const from = s.options.pastEnd === 'last-page' ? Math.min(page.from, lastFrom) : page.from;
  sendPage(x, page, {
    TotalCount: String(s.options.totalCount ? s.options.totalCount(list.length) : list.length),
    SyncTasks: list.slice(from, from + page.size),
  });
}

/** ListRepoSyncRule: one page, TotalCount a number. */
function listRules(x: Exchange, inst: SimInstance, page: Page): void {
  sendPage(x, page, { TotalCount: inst.rules.length, SyncRules: inst.rules.slice(page.from, page.from + page.size) });
}

/** Answers an authentic call of `action`: a scripted fault, a denied action, an unknown instance, or the page. */
export function answerList(s: SimState, x: Exchange, action: Action): void {
  const pageNo = Number(x.params.PageNo ?? 1);
  const fault = takeFault(s, action, x, pageNo);
  if (fault && playFault(x, fault.kind)) return;
  if (s.options.denied?.includes(action)) return refuse(x, NO_PRIVILEGE);
  const inst = s.options.instances.find((i) => i.instanceId === x.params.InstanceId);
  if (!inst || inst.regionId !== x.region)
    return send(x, 200, {
      RequestId: randomUUID(),
      Code: 'INSTANCE_NOT_EXIST',
      IsSuccess: false,
      Message: 'instance not exist',
    });
  const page = pageOf(s, x, pageNo, fault?.kind === 'repeat-page');
  if (action === 'ListRepoSyncTask') listTasks(s, x, inst, page);
  else listRules(x, inst, page);
}

/** Serves one request: record it, check it as the gateway does, let the test drop it, then answer the action. */
