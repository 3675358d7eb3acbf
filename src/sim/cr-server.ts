import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { refuse, type Exchange, type Refusal, type SimState } from './cr-answers.js';
import { answerList } from './cr-lists.js';
import type { CrSimOptions, RecordedCall, SimInstance, CrFault } from './cr-model.js';
import { verifyRpcSignature } from './rpc-signature.js';

export type { CrFault, CrSimOptions, RawRule, RawTask, RecordedCall, SimInstance } from './cr-model.js';

/** A running local CR server: its endpoint, what it was asked, and the scripted faults it will play. */
export interface CrSimulator {
  /** ACR_ENDPOINT value: the region is part of the path, as each region has its own endpoint. */
  endpointTemplate: string;
  calls: RecordedCall[];
  instances: SimInstance[];
  options: CrSimOptions;
  fault(f: CrFault): void;
  close(): Promise<void>;
}

async function readParams(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const out: Record<string, string> = {};
  // The gateway merges query and form parameters (pop-core sends lower-case 'post' as a query).
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  for (const [k, v] of query) out[k] = v;
  for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) out[k] = v;
  return out;
}

function gatewayRefusal(s: SimState, x: Exchange): Refusal | undefined {
  const { params, call } = x;
  const o = s.options;
  if (params.AccessKeyId !== o.accessKeyId)
    return [404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'];
  call.signatureValid = verifyRpcSignature(x.req.method ?? 'GET', params, o.accessKeySecret);
  if (!call.signatureValid)
    return [400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.'];
  if (o.securityToken !== undefined && params.SecurityToken !== o.securityToken)
    return [400, 'InvalidSecurityToken.Mismatch', 'Specified SecurityToken is not valid.'];
  const ts = Date.parse(params.Timestamp ?? '');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.Timestamp ?? '') || Math.abs(Date.now() - ts) > 15 * 60_000)
    return [400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'];
  if (!params.SignatureNonce || s.nonces.has(params.SignatureNonce))
    return [400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'];
  s.nonces.add(params.SignatureNonce);
  if (params.Version !== '2018-12-01') return [400, 'InvalidVersion', 'Specified parameter Version is not valid.'];
  return undefined;
}

/** The first scripted fault that matches this call, used up by one. */
async function serve(s: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const params = await readParams(req);
  const region = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean)[0] ?? '';
  const call: RecordedCall = { action: params.Action ?? '', region, params, signatureValid: false, status: 0 };
  s.calls.push(call);
  if (s.options.latencyMs) await new Promise((r) => setTimeout(r, s.options.latencyMs));
  const x: Exchange = { req, res, call, params, region };
  const refusal = gatewayRefusal(s, x);
  if (refusal) return refuse(x, refusal);
  const action = params.Action;
  if ((await s.options.onCall?.(action ?? '', params)) === 'drop') {
    call.status = -3;
    return void req.socket.destroy();
  }
  if (action !== 'ListRepoSyncTask' && action !== 'ListRepoSyncRule')
    return refuse(x, [404, 'InvalidAction.NotFound', 'Specified api is not found.']);
  answerList(s, x, action);
}

/**
 * A local CR OpenAPI (2018-12-01) server for ListRepoSyncTask and ListRepoSyncRule. It checks what the real gateway
 * checks (signature v1, AccessKeyId, STS token, timestamp skew, nonce reuse, API version) and answers in the API's
 * wire format, including its quirks (TotalCount as a string for tasks, Code "success").
 */
export async function startCrSimulator(options: CrSimOptions): Promise<CrSimulator> {
  const s: SimState = { options, calls: [], faults: [], nonces: new Set() };
  const server = createServer((req, res) => void serve(s, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpointTemplate: `http://127.0.0.1:${port}/{regionId}`,
    calls: s.calls,
    instances: options.instances,
    options,
    fault: (f) => s.faults.push({ ...f, left: f.times ?? 1 }),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
