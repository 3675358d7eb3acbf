import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookFault } from '../../src/sim/webhook-server.js';
import { rawTask, type TaskSpec } from '../../src/sim/seed.js';
import { announcedIds, closeWorlds, failureCounts, SECRETS, startWorld, type World } from '../support/world.js';

const HZ = { instanceId: 'cri-poison0hz', regionId: 'cn-hangzhou' };
const SH = { instanceId: 'cri-poison0sh', regionId: 'cn-shanghai' };
// In the failure's TaskIssue, which every rendering shows, the smallest included.
const MARKER = 'ZZPOISONZZ';
const POISON = 'rst-poison1';
const failure = (id: string, repo: string, issue = 'TAG_CONFLICT'): TaskSpec => ({
  id,
  status: 'ERROR',
  issue,
  createTime: Date.now() - 60_000,
  ruleId: 'crsr-p',
  from: { ...HZ, namespace: 'ns', repo, tag: 'v1' },
  to: SH,
});

/** Failures found in the same run as the poison, sent in the same message. */
const BESIDE = 6;
const beside = () => Array.from({ length: BESIDE }, (_, i) => rawTask(failure(`rst-beside${i}`, `lib${i}`)));

afterEach(closeWorlds);

/** Failures a channel was told of, by the banners of the messages it took ("… · 6 syncs failed in all"). */
const told = (world: World, channel: 'dingtalk' | 'slack') =>
  failureCounts(world.hooks, channel)
    .filter((n) => !Number.isNaN(n))
    .reduce((a, b) => a + b, 0);

/** Runs as the timer would over three hours: each run finds new failures, and a pause lasts 30 minutes (lifted). */
async function threeHours(world: World, channel: 'dingtalk' | 'slack'): Promise<string[]> {
  const later: string[] = [];
  const tasks = world.cr.instances[0]!.tasks;
  for (let run = 0; run < 6; run++) {
    const ids = Array.from({ length: run < 4 ? 6 : 5 }, (_, i) => `rst-later${run}x${i}`);
    tasks.push(...ids.map((id, i) => rawTask(failure(id, `app${run}-${i}`))));
    later.push(...ids);
    // Half an hour on: a pause set by the run before has run out.
    await world.editControl((c) => {
      const { [channel]: _gone, ...rest } = c.pauses;
      return { ...c, pauses: rest };
    });
    await world.run();
  }
  return later;
}

async function poisoned(channel: 'dingtalk' | 'slack', fault: WebhookFault) {
  const world = await startWorld({
    instances: [{ ...HZ, tasks: [rawTask(failure(POISON, 'img', `UNHEARD_OF_${MARKER}`)), ...beside()], rules: [] }],
    env: { ACR_PAGE_SIZE: '50' },
  });
  world.hooks.fault(channel, fault);
  const first = await world.run();
  const later = await threeHours(world, channel);
  return { world, first, later };
}

describe('a message refused for its content does not hold its channel', () => {
  it('Slack invalid_payload for one alert: the 34 later failures reach Slack, the poison is quarantined and told', async () => {
    const { world, first, later } = await poisoned('slack', { kind: 'content', marker: MARKER });
    expect(later).toHaveLength(34);
    expect(told(world, 'slack')).toBe(34 + BESIDE);
    expect(first.quarantined).toEqual({ slack: 1 });
    expect(first.notified.slack).toBe(BESIDE);
    const notices = world.hooks.received.filter((m) => JSON.stringify(m.body).includes('could not be delivered'));
    expect(notices).toHaveLength(1);
    expect(JSON.stringify(notices[0]!.body)).toContain(`${HZ.regionId}:${HZ.instanceId}/${POISON}`);
    expect(JSON.stringify(notices[0]!.body)).toContain('invalid_payload');
    const logs = world.logs.join('\n');
    expect(logs).toMatch(/quarantined.*rst-poison1/);
    for (const secret of SECRETS) expect(logs).not.toContain(secret);
    // The parts that went and the notice: each a post in the summary.
    expect(first.apiCalls.webhookPosts).toBe(world.hooks.received.length - 6 * 2);
    // Nothing owed is left behind, nothing paused, and DingTalk got everything once.
    const state = await world.state();
    expect(Object.keys(state.control?.pauses ?? {})).toEqual([]);
    expect(told(world, 'dingtalk')).toBe(1 + BESIDE + 34);
    expect(announcedIds(world.hooks, 'dingtalk')).toContain(POISON);
  });

  it('Slack 500 for that message only: the channel flows, the poison is quarantined', async () => {
    const { world, first } = await poisoned('slack', {
      kind: 'content',
      marker: MARKER,
      status: 500,
      body: 'rollup_error',
    });
    expect(told(world, 'slack')).toBe(34 + BESIDE);
    expect(first.quarantined).toEqual({ slack: 1 });
  }, 60_000);

  it('a DingTalk errcode not in our list for one alert: the robot flows, the poison is quarantined and told', async () => {
    const { world, first } = await poisoned('dingtalk', {
      kind: 'content',
      marker: MARKER,
      errcode: 499999,
      errmsg: 'content not allowed',
    });
    expect(told(world, 'dingtalk')).toBe(34 + BESIDE);
    expect(first.quarantined).toEqual({ dingtalk: 1 });
    const notice = world.hooks.received.find(
      (m) => m.channel === 'dingtalk' && JSON.stringify(m.body).includes('499999'),
    );
    expect(JSON.stringify(notice?.body)).toContain('could not be delivered');
  });
});
