import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handler, setLogSink } from '../../src/index.js';
import type { RunSummary } from '../../src/run.js';
import { startCrSimulator, type CrSimOptions, type CrSimulator, type SimInstance } from '../../src/sim/cr-server.js';
import { startWebhookReceivers, type ReceiverOptions, type WebhookReceivers } from '../../src/sim/webhook-server.js';

export const KEYS = { id: 'STS.test-access-key-id-0001', secret: 'test-access-key-secret-9f3a', token: 'test-sts-security-token-77c1' };
export const DING = { token: 'dingtalk-robot-token-5e1d', secret: 'SECdingtalk-signing-secret-0b2c' };
export const SLACK_PATH = '/services/T0TEST/B0TEST/slack-hook-secret-a41f';

/** Every string that must never appear in a log line, error or summary. */
export const SECRETS = [KEYS.id, KEYS.secret, KEYS.token, DING.token, DING.secret, SLACK_PATH, 'slack-hook-secret-a41f'];

export interface World {
  cr: CrSimulator;
  hooks: WebhookReceivers;
  dir: string;
  checkpointFile: string;
  env: Record<string, string>;
  /** Every log line written by every run so far. */
  logs: string[];
  /** Invokes the real handler as Function Compute would (Buffer event, context with STS credentials). */
  run(opts?: { payload?: string; env?: Record<string, string | undefined>; requestId?: string; timeout?: number }): Promise<RunSummary>;
  checkpoint(): { version: number; checkpoint: { outbox: unknown[]; instances: Record<string, unknown> } } | undefined;
  close(): Promise<void>;
}

export async function startWorld(opts: { instances: SimInstance[]; cr?: Partial<CrSimOptions>; hooks?: Partial<ReceiverOptions>; env?: Record<string, string> }): Promise<World> {
  const cr = await startCrSimulator({ accessKeyId: KEYS.id, accessKeySecret: KEYS.secret, securityToken: KEYS.token, instances: opts.instances, ...opts.cr });
  const hooks = await startWebhookReceivers({ dingtalkToken: DING.token, dingtalkSecret: DING.secret, slackPath: SLACK_PATH, ...opts.hooks });
  const dir = mkdtempSync(join(tmpdir(), 'acr-sync-alert-'));
  const checkpointFile = join(dir, 'checkpoint.json');
  const env: Record<string, string> = {
    ACR_INSTANCES: opts.instances.map((i) => `${i.regionId}:${i.instanceId}`).join(','),
    ACR_ENDPOINT: cr.endpointTemplate,
    CHECKPOINT_FILE: checkpointFile,
    DINGTALK_WEBHOOK: hooks.dingtalkUrl,
    DINGTALK_SECRET: DING.secret,
    SLACK_WEBHOOK: hooks.slackUrl,
    ALERT_LANG: 'en',
    LOOKBACK_MINUTES: '1440',
    ...opts.env,
  };
  const logs: string[] = [];
  return {
    cr, hooks, dir, checkpointFile, env, logs,
    async run(o = {}) {
      const saved = { ...process.env };
      for (const k of Object.keys(process.env)) if (/^(ACR_|TABLESTORE_|DINGTALK_|SLACK_|CHECKPOINT_|ALERT_|LOOKBACK_|FETCH_|STATE_KEY|FC_|ALIBABA_CLOUD_)/.test(k)) delete process.env[k];
      Object.assign(process.env, env);
      for (const [k, v] of Object.entries(o.env ?? {})) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      setLogSink((_level, line) => logs.push(line));
      try {
        const event = Buffer.from(JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'timer', payload: o.payload ?? '' }));
        const context = {
          requestId: o.requestId ?? randomUUID(),
          credentials: { accessKeyId: KEYS.id, accessKeySecret: KEYS.secret, securityToken: KEYS.token },
          function: { name: 'acr-sync-alert', timeout: o.timeout ?? 60, memory: 128 },
          region: 'cn-hangzhou',
        };
        const out = await handler(event, context);
        logs.push(out);
        return JSON.parse(out) as RunSummary;
      } finally {
        setLogSink(undefined);
        process.env = saved;
      }
    },
    checkpoint() {
      try {
        return JSON.parse(readFileSync(checkpointFile, 'utf8'));
      } catch {
        return undefined;
      }
    },
    async close() {
      await hooks.close();
      await cr.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Task ids named in the messages a channel received (each line of a message carries one task id). */
export function announcedIds(hooks: WebhookReceivers, channel: 'dingtalk' | 'slack'): string[] {
  const ids: string[] = [];
  for (const m of hooks.received.filter((r) => r.channel === channel)) {
    ids.push(...(JSON.stringify(m.body).match(/rst-[A-Za-z0-9]+/g) ?? []));
  }
  return ids;
}

/** Counts "…and N more" in received messages, so announced-or-counted totals can be checked. */
export function failureCounts(hooks: WebhookReceivers, channel: 'dingtalk' | 'slack'): number[] {
  return hooks.received
    .filter((r) => r.channel === channel)
    .map((m) => Number(/ACR image sync failed: (\d+) new/.exec(JSON.stringify(m.body))?.[1] ?? NaN));
}
