import RPCClient from '@alicloud/pop-core';
import { IntegrationError } from '../lib/errors.js';
import type { Credentials } from '../lib/secret.js';
import type { Page, SyncRule, SyncTask } from '../model/task.js';
import { MalformedResponseError, parseRulePage, parseTaskPage } from './parse.js';

export const CR_API_VERSION = '2018-12-01';

/** RAM action each call needs (CR API reference: ListRepoSyncTask, ListRepoSyncRule). */
export const RAM_ACTION = {
  ListRepoSyncTask: 'cr:GetRepositorySync',
  ListRepoSyncRule: 'cr:ListSyncRule',
} as const;
export type CrAction = keyof typeof RAM_ACTION;

export interface PageRequest {
  instanceId: string;
  pageNo: number;
  pageSize: number;
  timeoutMs: number;
}

/** ListRepoSyncTask's documented filters: one push's tasks (SyncRecordId = SyncBatchTaskId), or one image's. */
export interface TaskFilter {
  syncRecordId?: string;
  namespace?: string;
  repo?: string;
  tag?: string;
}

/** The narrow view of CR OpenAPI this product needs. Every failure is an `IntegrationError` with service `cr`. */
export interface CrApi {
  listSyncTasks(req: PageRequest & { filter?: TaskFilter }): Promise<Page<SyncTask>>;
  listSyncRules(req: PageRequest): Promise<Page<SyncRule>>;
}

/** Counts requests actually sent, for the run summary. */
export interface CallCounter {
  cr: number;
}

const RETRYABLE_CODES = /^(Throttling|ServiceUnavailable|SystemError|InternalError|UnknownError|RequestTimeout)/;
const PERMISSION_CODES = /^(NoPrivilege|NoPermission|Forbidden)/;
const CREDENTIAL_CODES =
  /^(InvalidAccessKeyId|SignatureDoesNotMatch|InvalidSecurityToken|IncompleteSignature|InvalidAccessKeySecret)/;
const INSTANCE_CODES = /^(INSTANCE_NOT_EXIST|InvalidInstance|Instance\.NotFound|INSTANCE_NOT_FOUND)/i;
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'EHOSTUNREACH',
]);

/** What an operator must change for a CR refusal with `code`: the credentials, a RAM permission, or the instance. */
export function crFaultOf(code: string | undefined): 'credentials' | 'permission' | 'instance' | undefined {
  if (!code) return undefined;
  if (CREDENTIAL_CODES.test(code)) return 'credentials';
  if (PERMISSION_CODES.test(code)) return 'permission';
  return INSTANCE_CODES.test(code) ? 'instance' : undefined;
}

interface PopError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  data?: { Message?: unknown; RequestId?: unknown };
  entry?: { response?: { statusCode?: unknown } };
}

/** What a pop-core rejection says, each part only when it has the expected type. */
function answerOf(e: PopError) {
  const code = typeof e.code === 'string' ? e.code : undefined;
  const status = typeof e.entry?.response?.statusCode === 'number' ? e.entry.response.statusCode : undefined;
  const requestId = typeof e.data?.RequestId === 'string' ? e.data.RequestId : undefined;
  const serviceMsg = typeof e.data?.Message === 'string' ? e.data.Message : undefined;
  return { code, status, requestId, serviceMsg };
}

/**
 * A failure that is not a CR answer with a code: a body that breaks the API's documented shape, a body that is not
 * JSON, no answer in time, a network error. Undefined for a coded answer.
 */
function transportError(err: unknown, e: PopError, where: string): IntegrationError | undefined {
  if (err instanceof MalformedResponseError) {
    return new IntegrationError(`${where}: ${err.problem}`, {
      service: 'cr',
      kind: 'retryable',
      code: 'MalformedResponse',
      requestId: err.requestId,
    });
  }
  if (e.name === 'SyntaxError') {
    return new IntegrationError(`${where}: the response was not JSON (a gateway or proxy error page)`, {
      service: 'cr',
      kind: 'retryable',
      code: 'NonJsonResponse',
    });
  }
  if (e.name === 'RequestTimeoutError') {
    return new IntegrationError(`${where}: no response in time`, { service: 'cr', kind: 'retryable', code: 'Timeout' });
  }
  const { code, ...rest } = answerOf(e);
  const fields = { service: 'cr' as const, code, status: rest.status, requestId: rest.requestId };
  if (code && NETWORK_CODES.has(code))
    return new IntegrationError(`${where}: network error ${code}`, { ...fields, kind: 'retryable' });
  if (code) return undefined;
  const reset = typeof e.message === 'string' && /socket hang up|ECONNRESET/i.test(e.message);
  return new IntegrationError(`${where}: ${reset ? 'connection reset' : 'request failed'}`, {
    ...fields,
    kind: 'retryable',
    code: 'NetworkError',
  });
}

/** A CR answer with an error code, classified: retryable (throttling, 5xx), config (RAM, credentials, instance). */
function refusalError(e: PopError, action: CrAction, where: string): IntegrationError {
  const { code = '', status, requestId, serviceMsg } = answerOf(e);
  const fields = { service: 'cr' as const, code, status, requestId };
  if (RETRYABLE_CODES.test(code) || (status !== undefined && status >= 500)) {
    return new IntegrationError(`${where}: ${serviceMsg ?? code}`, { ...fields, kind: 'retryable' });
  }
  if (PERMISSION_CODES.test(code)) {
    return new IntegrationError(
      `${where} was refused (${code}): the function's RAM role needs the action ${RAM_ACTION[action]} on this instance`,
      { ...fields, kind: 'config' },
    );
  }
  if (CREDENTIAL_CODES.test(code)) {
    return new IntegrationError(
      `${where}: credentials were rejected (${code}); check the function's role or the access key`,
      { ...fields, kind: 'config' },
    );
  }
  if (INSTANCE_CODES.test(code)) {
    return new IntegrationError(`${where}: the instance was not found in this region (${code}); check ACR_INSTANCES`, {
      ...fields,
      kind: 'config',
    });
  }
  return new IntegrationError(`${where}: ${serviceMsg ?? 'request refused'} (${code})`, {
    ...fields,
    kind: 'permanent',
  });
}

/**
 * Turns whatever pop-core rejected with into an `IntegrationError`. pop-core rejects with an Error carrying the CR
 * `Code` for JSON error bodies, with a plain `{name:'SyntaxError'}` object for non-JSON bodies (proxy HTML, empty
 * 5xx), and with `RequestTimeoutError` on timeouts; the HTTP status is only in `entry.response.statusCode`.
 * Messages are rebuilt from codes so that no URL is repeated.
 */
export function normalizeCrError(err: unknown, action: CrAction, instance: string): IntegrationError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as PopError;
  const where = `${action} on ${instance}`;
  return transportError(err, e, where) ?? refusalError(e, action, where);
}

/**
 * A CR OpenAPI client for one region endpoint, built per invocation because the role's STS credentials rotate.
 * Uses POST so parameters (including the AccessKeyId) travel in the body, never in a URL that an error could echo.
 */
export function createCrApi(opts: { endpoint: string; credentials: Credentials; counter?: CallCounter }): CrApi {
  const client = new RPCClient({
    endpoint: opts.endpoint,
    apiVersion: CR_API_VERSION,
    accessKeyId: opts.credentials.accessKeyId.reveal(),
    accessKeySecret: opts.credentials.accessKeySecret.reveal(),
    securityToken: opts.credentials.securityToken?.reveal(),
  });

  async function call(action: CrAction, req: PageRequest & { filter?: TaskFilter }): Promise<unknown> {
    if (opts.counter) opts.counter.cr += 1;
    const f = req.filter;
    const filters = {
      ...(f?.syncRecordId ? { SyncRecordId: f.syncRecordId } : {}),
      ...(f?.namespace ? { RepoNamespaceName: f.namespace } : {}),
      ...(f?.repo ? { RepoName: f.repo } : {}),
      ...(f?.tag ? { Tag: f.tag } : {}),
    };
    try {
      return await client.request(
        action,
        { InstanceId: req.instanceId, PageNo: req.pageNo, PageSize: req.pageSize, ...filters },
        { method: 'POST', timeout: req.timeoutMs },
      );
    } catch (err) {
      throw normalizeCrError(err, action, req.instanceId);
    }
  }

  function parsed<T>(action: CrAction, req: PageRequest, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      throw normalizeCrError(err, action, req.instanceId);
    }
  }

  return {
    async listSyncTasks(req) {
      const body = await call('ListRepoSyncTask', req);
      return parsed('ListRepoSyncTask', req, () => parseTaskPage(body, req.instanceId, req));
    },
    async listSyncRules(req) {
      const body = await call('ListRepoSyncRule', req);
      return parsed('ListRepoSyncRule', req, () => parseRulePage(body, req));
    },
  };
}
