/**
 * Tablestore's answers as our errors: the service's own code and message kept, what kind of failure it is, and the fix
 * an operator needs, per code. Nothing outside this file and tablestore-client.ts reads the SDK's error shapes.
 */
import { IntegrationError, type IntegrationErrorFields } from '../lib/errors.js';
import type { StateFault } from '../model/state-fault.js';

const RETRYABLE = new Set([
  'OTSServerBusy',
  'OTSPartitionUnavailable',
  'OTSTimeout',
  'OTSInternalServerError',
  'OTSServerUnavailable',
  'OTSNotEnoughCapacityUnit',
  'OTSOperationThrottled',
  'OTSQuotaExhausted',
  'OTSTableNotReady',
  'OTSRowOperationConflict',
]);
const NETWORK = new Set(['NetworkingError', 'TimeoutError']);
/** The longest service message kept: enough for every documented one, bounded whatever arrives. */
const MESSAGE_MAX = 300;

/** What an operator does about each fault (the log's words; messages to the channels have their own, per language). */
const FIX: Record<StateFault, string> = {
  'network-acl':
    "the instance's network ACL refuses the network this request came from: use its internal endpoint " +
    '(https://<instance>.<region>.ots-internal.aliyuncs.com), or its VPC endpoint with the function in that VPC ' +
    "(vpcConfig), or allow this network type in the instance's Network Management settings",
  credentials:
    "the request's credentials were refused: check the role the function assumes (its STS keys), or " +
    'ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET for local runs',
  permission:
    "grant the role the table's ots: actions (policy/ram-policy.json; `acr-sync-alert policy` prints them for " +
    'your instance and table)',
  instance: 'check TABLESTORE_INSTANCE and that TABLESTORE_ENDPOINT names that instance in its region',
  'table-missing':
    'the table does not exist: check TABLESTORE_TABLE, or create it (a run with ots:CreateTable creates it)',
  unavailable: 'the service did not answer; the next run tries again',
  unknown: "see the service's code and message",
};

/** What an operator does about `fault`. */
export const stateFix = (fault: StateFault): string => FIX[fault];

/** A Tablestore failure: the service's code and message (when it answered), the fault, and its fix. */
export class TablestoreError extends IntegrationError {
  /** The service's own message, e.g. "Request denied by instance ACL policies." */
  readonly serviceMessage?: string;
  readonly fault: StateFault;
  constructor(message: string, fields: Omit<IntegrationErrorFields, 'service'> & { serviceMessage?: string }) {
    super(message, { ...fields, service: 'tablestore' });
    this.name = 'TablestoreError';
    this.serviceMessage = fields.serviceMessage;
    this.fault = faultOf(fields.code, fields.serviceMessage, fields.kind);
  }
}

/** The fault a code (and, for OTSAuthFailed, which covers several, its message) stands for. */
export function faultOf(code: string | undefined, message: string | undefined, kind?: string): StateFault {
  if (kind === 'retryable') return 'unavailable';
  if (code === 'OTSAuthFailed') {
    // One code for the network ACL ("Request denied by instance ACL policies.", "... only be accessed from the binded
    // VPC."), an unknown instance and refused credentials; only the message tells them apart.
    if (/\bACL\b|\bVPC\b/i.test(message ?? '')) return 'network-acl';
    if (/\binstance\b/i.test(message ?? '')) return 'instance';
    return 'credentials';
  }
  if (code === 'OTSNoPermissionAccess' || code === 'OTSAccessDenied' || code === 'Forbidden') return 'permission';
  if (code === 'OTSInvalidInstance') return 'instance';
  if (code === 'OTSObjectNotExist') return 'table-missing';
  return 'unknown';
}

/**
 * The service's message from the SDK's error text, which is the raw protobuf Error (field 1 the code, field 2 the
 * message, each after a tag byte and a varint length) read as UTF-8, then " requestId:<id>" (sdk-wire-facts §1.3).
 */
export function serviceMessageOf(text: string, code: string | undefined): string | undefined {
  const at = code ? text.indexOf(code) : -1;
  if (at < 0) return undefined;
  let rest = text.slice(at + code!.length);
  const rid = rest.lastIndexOf(' requestId:');
  if (rid >= 0) rest = rest.slice(0, rid);
  if (rest[0] !== '\u0012') return undefined;
  // The length: one byte below 0x80, else bytes from 0x80 up, which arrive as U+FFFD once read as UTF-8.
  let i = 1;
  while (i < rest.length && rest.charCodeAt(i) >= 0x80) i++;
  const msg = rest
    .slice(i + 1)
    // eslint-disable-next-line no-control-regex -- the protobuf framing around the message is control bytes
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .trim();
  return msg === '' ? undefined : msg.slice(0, MESSAGE_MAX);
}

/** The failure's kind: retryable, a configuration problem, or permanent. */
function kindOf(code: string | undefined, status: number | undefined): IntegrationErrorFields['kind'] {
  if ((code && (NETWORK.has(code) || RETRYABLE.has(code))) || (status !== undefined && status >= 500))
    return 'retryable';
  return faultOf(code, undefined) === 'unknown' ? 'permanent' : 'config';
}

/**
 * Our error for a service code: its kind, and a message that keeps the service's code and message and names the fix,
 * e.g. `Tablestore GetRange was refused: OTSAuthFailed "Request denied by instance ACL policies." (HTTP 403): the
 * instance's network ACL refuses ...`.
 */
export function otsError(
  action: string,
  code: string | undefined,
  more: { status?: number; requestId?: string; message?: string } = {},
): TablestoreError {
  const kind = kindOf(code, more.status);
  const fields = { code, status: more.status, requestId: more.requestId, serviceMessage: more.message, kind };
  const quoted = more.message && more.message !== code ? `"${more.message}"` : undefined;
  const answer = [code ?? 'no code', quoted, httpOf(more.status)].filter(Boolean).join(' ');
  if (code && NETWORK.has(code))
    return new TablestoreError(`Tablestore ${action}: network error or no answer in time (${code})`, fields);
  if (kind === 'retryable')
    return new TablestoreError(`Tablestore ${action}: service busy or unavailable: ${answer}`, fields);
  const fault = faultOf(code, more.message, kind);
  return new TablestoreError(`Tablestore ${action} was refused: ${answer}: ${FIX[fault]}`, fields);
}

const httpOf = (status: number | undefined) => (status === undefined ? undefined : `(HTTP ${status})`);
