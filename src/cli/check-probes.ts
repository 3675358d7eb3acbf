/**
 * What `check` tries, one cheap request each: CR with the operator's credentials (per instance, its sync tasks and
 * its sync rules), the state table (a read of one row and a write that cannot apply), and each channel (a test message
 * only when asked). Each probe answers with lines saying what passed, or what failed and what to change.
 */
import { randomUUID } from 'node:crypto';
import { acrEndpoint, type Config } from '../config/config.js';
import { tableFor } from '../handler/deps.js';
import { crFaultOf, createCrApi, RAM_ACTION, type CrAction } from '../acr/client.js';
import { describeError, IntegrationError } from '../lib/errors.js';
import type { Credentials } from '../lib/secret.js';
import type { Target } from '../notify/post.js';
import { renderTestMessage } from '../render/index.js';
import { keysFor } from '../state/rows.js';
import { stateFix, TablestoreError } from '../state/tablestore-errors.js';

/** One line of the report: what was checked, what was seen, and for a failure what to change. */
export interface Check {
  ok: boolean;
  what: string;
  said: string;
  fix?: string;
}

const CALL_TIMEOUT_MS = 10_000;

/** The fix for a CR refusal of `action` on an instance, by what the code says is wrong. */
function crFix(err: unknown, action: CrAction, instance: string): string {
  const code = err instanceof IntegrationError ? err.code : undefined;
  switch (crFaultOf(code)) {
    case 'credentials':
      return (
        'use a valid access key: ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET (and _SECURITY_TOKEN with STS keys), or ' +
        '--profile NAME'
      );
    case 'permission':
      return `grant ${RAM_ACTION[action]} on ${instance} (acr-sync-alert policy prints the RAM policy)`;
    case 'instance':
      return `check ACR_INSTANCES: ${instance} is not an instance of that region (regionId:instanceId)`;
    default:
      return err instanceof IntegrationError && err.kind === 'retryable'
        ? 'check ACR_ENDPOINT and the region (the endpoint must be reachable from here); try again if CR was busy'
        : 'see the code and message';
  }
}

/** The two reads a run makes of one instance, one item each; the rules only once its tasks could be read. */
async function probeInstance(
  config: Config,
  instanceKey: string,
  credentials: Credentials,
): Promise<{ checks: Check[]; keyRefused?: Check; answered: boolean }> {
  const ref = config.instances.find((i) => i.key === instanceKey)!;
  const cr = createCrApi({ endpoint: acrEndpoint(config.acrEndpointTemplate, ref.regionId), credentials });
  const req = { instanceId: ref.instanceId, pageNo: 1, pageSize: 1, timeoutMs: CALL_TIMEOUT_MS };
  const what = `instance ${instanceKey}`;
  const out: Check[] = [];
  for (const [action, read] of [
    ['ListRepoSyncTask', () => cr.listSyncTasks(req)],
    ['ListRepoSyncRule', () => cr.listSyncRules(req)],
  ] as const) {
    try {
      await read();
      out.push({ ok: true, what, said: `${action === 'ListRepoSyncTask' ? 'sync tasks' : 'sync rules'} readable` });
    } catch (err) {
      const failed = { ok: false, what, said: describeError(err), fix: crFix(err, action, instanceKey) };
      const code = err instanceof IntegrationError ? err.code : undefined;
      if (crFaultOf(code) === 'credentials') return { checks: [failed], keyRefused: failed, answered: true };
      out.push(failed);
      // No answer (the network, a timeout, CR busy) says nothing of the credentials.
      const answered = out.length > 1 || !(err instanceof IntegrationError && err.kind === 'retryable');
      return { checks: out, answered };
    }
  }
  return { checks: out, answered: true };
}

/**
 * CR with `credentials`: one line for the credentials (refused on any instance, or accepted by one that answered),
 * then each instance's lines. A key refused once is refused everywhere: the instances are then not listed one by one.
 */
export async function probeCr(config: Config, credentials: Credentials): Promise<Check[]> {
  const probed = await Promise.all(config.instances.map((i) => probeInstance(config, i.key, credentials)));
  const refused = probed.find((p) => p.keyRefused)?.keyRefused;
  if (refused) return [{ ...refused, what: 'CR credentials' }];
  const accepted: Check[] = probed.some((p) => p.answered)
    ? [{ ok: true, what: 'CR credentials', said: 'accepted' }]
    : [];
  return [...accepted, ...probed.flatMap((p) => p.checks)];
}

/** An internal or VPC endpoint answers only inside Alibaba Cloud's network. */
const internalEndpoint = (endpoint: string) => /\.(ots-internal|vpc\.tablestore)\.aliyuncs\.com/.test(endpoint);

function stateFailure(err: unknown, where: string, endpoint: string): Check {
  if (err instanceof TablestoreError && err.fault === 'unavailable' && internalEndpoint(endpoint))
    return {
      ok: false,
      what: where,
      said: describeError(err),
      fix:
        'TABLESTORE_ENDPOINT is an internal or VPC endpoint, which answers only from inside Alibaba Cloud: run ' +
        'check where the function runs (acr-sync-alert invoke), or with the public endpoint if the instance allows it',
    };
  const fix = err instanceof TablestoreError ? stateFix(err.fault) : 'see the message';
  return { ok: false, what: where, said: describeError(err), fix };
}

/**
 * The state table: a read of the deployment's control row (BatchGetRow; a missing table is created, as a first run
 * does), then a write of that row under a version no row ever has (BatchWriteRow). Tablestore authorises the request
 * before it tests the condition, so the write proves the action allowed while nothing is ever written: no row to
 * clean up, whatever interrupts the check.
 */
export async function probeState(config: Config, credentials: Credentials | undefined): Promise<Check[]> {
  const s = config.store;
  if (s.kind === 'file')
    return [{ ok: true, what: 'state', said: `local file ${s.path} (a deployed function needs Tablestore)` }];
  const where = `Tablestore ${s.instance}/${s.table}`;
  const table = tableFor(config, credentials);
  const key = keysFor(config.stateKey).control;
  try {
    await table.getRows([key], CALL_TIMEOUT_MS);
  } catch (err) {
    return [stateFailure(err, where, s.endpoint)];
  }
  const read: Check = { ok: true, what: where, said: 'reachable, rows readable (BatchGetRow)' };
  try {
    const r = await table.writeRows([{ op: 'put', key, cols: { check: 1 }, when: { version: -1 } }], CALL_TIMEOUT_MS);
    const refused = r.refused?.[0]?.error;
    if (refused) return [read, stateFailure(refused, where, s.endpoint)];
    if (r.failed.length !== 1) throw new Error('a write that cannot apply was applied');
    const said = 'writes allowed (BatchWriteRow; a conditional write, nothing written)';
    return [read, { ok: true, what: where, said }];
  } catch (err) {
    return [read, stateFailure(err, where, s.endpoint)];
  }
}

/** Where a target's webhook is set: the top-level setting for the default route, the route in ROUTES otherwise. */
const settingOf = (t: Target) =>
  t.route.name === 'default'
    ? t.notifier.channel === 'dingtalk'
      ? 'DINGTALK_WEBHOOK (and DINGTALK_SECRET)'
      : 'SLACK_WEBHOOK'
    : `the ${t.notifier.channel} webhook of route "${t.route.name}" in ROUTES`;

/** What to do about a DingTalk 310000 (the robot's security settings refused the message). */
const DINGTALK_310000_FIX =
  "DingTalk checks each message against the robot's security settings; messages from this function always contain " +
  '"ACR": use ACR as the robot\'s custom keyword, or set DINGTALK_SECRET to the robot\'s signing secret (SEC...), ' +
  "and allow the function's egress IP if an IP list is set";

/**
 * One channel: with `send`, a test message naming the instances it will hear about; without, only its webhook's form
 * (checked when the configuration was read).
 */
export async function probeChannel(config: Config, t: Target, send: boolean): Promise<Check> {
  const what = `channel ${t.id}`;
  if (!send) return { ok: true, what, said: 'webhook well-formed; not sent; --send posts a test message' };
  const payload = renderTestMessage(
    t.notifier.channel,
    config.instances.map((i) => i.key),
    t.route.lang,
  );
  try {
    await t.notifier.send(payload, { timeoutMs: CALL_TIMEOUT_MS, idempotencyKey: `check-${randomUUID()}` });
    return { ok: true, what, said: 'test message accepted' };
  } catch (err) {
    const fix =
      err instanceof IntegrationError && err.code === '310000'
        ? DINGTALK_310000_FIX
        : `check ${settingOf(t)}: the webhook must still exist and accept posts from here`;
    return { ok: false, what, said: `test message refused: ${describeError(err)}`, fix };
  }
}
