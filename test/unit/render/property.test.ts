import { describe, expect, it } from 'vitest';
import type { Alert, AlertRule } from '../../../src/model/alert.js';
import type { Mentions } from '../../../src/model/route.js';
import { contentOf } from '../../../src/render/content.js';
import { dingtalkBytes } from '../../../src/render/dingtalk.js';
import { renderFor } from '../../../src/render/index.js';
import { allBlocks } from '../../../src/render/slack.js';
import { digest, failure, listedAndCounted, notice, recovered, stuck } from '../../support/alerts.js';

// mulberry32: small and seeded, so a failing case can be replayed from its seed.
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

// What an API field may hold: plain names, markup for both platforms, controls, bidi and zero-width characters,
// wide characters, surrogate pairs, and lengths far past any cap.
const HOSTILE = [
  'prod',
  'svc_a-1.2',
  '<!channel>',
  '@all',
  '@所有人',
  '[x](https://phish.example)',
  '*bold* _it_ ~s~',
  '`code`',
  '&amp;&lt;',
  'a|b>c',
  'line\nbreak\r\n#### fake',
  'gnp\u202Eexe',
  'pay\u200bment',
  '同步失败镜像',
  '🚀🔥',
  '\u0000\u0007',
  '$(rm -rf ~)',
  '---',
  '> quote',
];

function field(r: () => number): string {
  const base = HOSTILE[Math.floor(r() * HOSTILE.length)]!;
  const roll = r();
  if (roll < 0.05) return base.repeat(Math.ceil(20_000 / base.length));
  if (roll < 0.15) return base.repeat(1 + Math.floor(r() * 40));
  return roll < 0.6 ? `n${Math.floor(r() * 50)}` : base;
}

function randomAlerts(seed: number): { alerts: Alert[]; expected: number } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const size = pick([0, 1, 3, 40, 400, 3_000]);
  const rules = 1 + Math.floor(r() * pick([1, 5, 80]));
  const alerts: Alert[] = [];
  for (let i = 0; i < size; i++) {
    const rule = Math.floor(r() * rules);
    const trigger = pick(['PASSIVE', 'INITIATIVE', undefined, '<@U1> *x*']);
    const ruleInfo: Partial<AlertRule> | null =
      r() < 0.1 ? null : { name: r() < 0.2 ? field(r) : `rule-${rule}`, ...(trigger ? { trigger } : {}) };
    alerts.push(
      failure(
        i,
        {
          taskId: `rst-f${i}`,
          ruleId: r() < 0.05 ? field(r) : `crsr-${rule}`,
          trigger: pick(['PASSIVE', 'INITIATIVE', '', '*MANUAL*']),
          issue: pick(['NETWORK_ERROR', 'INTERNAL_ERROR', 'OSS_POLICY_UNAUTHORIZED', 'TAG_CONFLICT', '', field(r)]),
          crossUser: r() < 0.1,
          from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: field(r), repo: field(r), tag: field(r) },
          to: {
            instanceId: r() < 0.9 ? 'cri-sz01' : field(r),
            regionId: pick(['cn-shenzhen', 'ap-southeast-1', field(r)]),
            namespace: field(r),
            repo: field(r),
            tag: field(r),
          },
        },
        ruleInfo,
      ),
    );
  }
  let expected = size;
  const hostileTask = (id: string) => ({
    taskId: id,
    from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: field(r), repo: field(r), tag: field(r) },
    status: pick(['SYNCHRONIZING', 'PENDING', 'PAUSED<>', 'SUCCESS', 'CANCELED']),
  });
  for (let i = 0, n = pick([0, 1, 25]); i < n; i++, expected++)
    alerts.push(stuck(i, 'stuck', hostileTask(`rst-s${i}`)));
  for (let i = 0, n = pick([0, 1, 12]); i < n; i++, expected++)
    alerts.push(stuck(i, 'unstuck', hostileTask(`rst-u${i}`)));
  for (let i = 0, n = pick([0, 1, 30]); i < n; i++, expected++)
    alerts.push({ ...recovered(i, hostileTask(`rst-r${i}`)), issue: field(r), unannounced: r() < 0.5 });
  for (let i = 0, n = pick([0, 1, 3, 30]); i < n; i++)
    alerts.push(
      notice(r() < 0.7 ? 'blind' : 'restored', `cn-hangzhou:cri-n${i}${r() < 0.2 ? field(r) : ''}`, field(r).repeat(3)),
    );
  for (let i = 0, n = pick([0, 0, 1, 2]); i < n; i++) {
    const causes = Object.fromEntries(
      Array.from({ length: pick([1, 6, 150]) }, () => [field(r), 1 + Math.floor(r() * 50)]),
    );
    const still = pick([0, 3, 400]);
    const oldest = Array.from({ length: Math.min(still, 5) }, (_, j) => ({
      instance: field(r),
      since: 1_799_000_000_000,
      issue: field(r),
      taskId: `rst-d${i}x${j}`,
      image: r() < 0.7 ? field(r) : undefined,
      target: r() < 0.5 ? field(r) : undefined,
      rule: r() < 0.5 ? field(r) : undefined,
    }));
    alerts.push(
      digest({
        id: `digest/${i}`,
        route: r() < 0.5 ? field(r) : undefined,
        byCause: causes,
        topRepos: Array.from({ length: 5 }, () => [field(r), Math.floor(r() * 9)] as [string, number]),
        stillFailing: still,
        oldestFailing: oldest,
        muted: causes,
      }),
    );
    expected += still;
  }
  return { alerts, expected };
}

/** Markup every Slack line may hold, taken out; what remains must not open anything. */
function checkSlackText(text: string): void {
  for (const l of text.split('\n')) {
    if (l.startsWith('```')) {
      expect(l.endsWith('```') && l.length >= 6, l).toBe(true);
      continue;
    }
    expect((l.match(/`/g) ?? []).length % 2, l).toBe(0);
    const rest = l
      .replace(/^> /, '')
      .replace(/<!date\^\d+\^\{date_num\} \{time\}\|[^<>|]*>/g, '')
      .replace(/<https:\/\/cr\.console\.aliyun\.com\/[a-z0-9-]+\/instances\|[^<>|]*>/g, '')
      .replace(/<@U\w+>|<!subteam\^S\w+>/g, '');
    expect(rest, l).not.toMatch(/[<>]/);
    expect(rest.replace(/&(amp|lt|gt);/g, ''), l).not.toContain('&');
  }
}

function checkDingTalkText(text: string): void {
  expect(text).not.toContain('`');
  expect(text).not.toMatch(/^---/m);
  for (const l of text.split('\n')) {
    expect((l.match(/\*\*/g) ?? []).length % 2, l).toBe(0);
    expect(l.replace(/\]\(https:\/\/cr\.console\.aliyun\.com\/[a-z0-9-]+\/instances\)/g, ''), l).not.toContain('](');
    if (l.includes('(set -- ')) expect(l.endsWith('; done)'), l).toBe(true);
    if (l.startsWith('acr-sync-alert silence add')) expect(l).toMatch(/--comment "(why|原因)"$/);
  }
  expect(text).not.toMatch(/@all|@所有人/);
}

// The platforms' limits, written out here rather than taken from the renderers, so that a renderer whose own budget
// drifts past them fails: Block Kit's documented limits, Slack's observed total (as the local receiver measures it),
// DingTalk's observed 20,000-byte refusal.
const LIMITS = { blocks: 50, section: 3_000, header: 150, slackTotal: 11_000, dingtalkBody: 20_000 };

function checkSlackLimits(blocks: Record<string, unknown>[]): void {
  expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  expect(JSON.stringify(blocks).length).toBeLessThanOrEqual(LIMITS.slackTotal);
  for (const b of blocks as { type: string; text?: { text: string }; elements?: { text: string }[] }[]) {
    if (b.type === 'header') expect(b.text!.text.length).toBeLessThanOrEqual(LIMITS.header);
    if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(LIMITS.section);
    for (const e of b.elements ?? []) expect(e.text.length).toBeLessThanOrEqual(LIMITS.section);
  }
}

const MENTIONS: Mentions = {
  dingtalkMobiles: ['13800000000'],
  dingtalkUserIds: ['ops'],
  slack: ['U0123ABC', 'S0456DEF'],
};
const ZONES = ['UTC', 'Asia/Shanghai', 'America/New_York', 'Asia/Kolkata'];

// 40 seeds under `npm test`. Mutation testing runs every seed for every mutant in src/render, so its config sets a
// few: seeds 1-4 still cover both languages, all four time zones and a message with mentions.
const SEEDS = Number(process.env.RENDER_PROPERTY_SEEDS ?? 40);

describe('every message kind, random large and hostile inputs', () => {
  it('is given at least one seed to run', () => expect(SEEDS).toBeGreaterThanOrEqual(1));
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}: every payload fits its platform, nothing is cut, every item is listed or counted`, () => {
      const { alerts, expected } = randomAlerts(seed);
      const c = contentOf(alerts);
      const loc = { lang: seed % 2 ? ('zh' as const) : ('en' as const), timeZone: ZONES[seed % ZONES.length]! };
      const mentions = seed % 3 === 0 ? MENTIONS : undefined;

      const d = renderFor('dingtalk', c, loc, { mentions });
      expect(dingtalkBytes(d)).toBeLessThanOrEqual(LIMITS.dingtalkBody);
      checkDingTalkText(d.markdown.text);
      expect(d.markdown.title.length).toBeLessThanOrEqual(160);

      const s = renderFor('slack', c, loc, { mentions });
      checkSlackLimits(allBlocks(s));
      for (const b of allBlocks(s) as { text?: { type: string; text: string }; elements?: { text: string }[] }[]) {
        if (b.text?.type === 'mrkdwn') checkSlackText(b.text.text);
        for (const e of b.elements ?? []) checkSlackText(e.text);
      }
      expect(s.text).not.toMatch(/[<>]/);

      for (const m of [d, s]) {
        const { listed, counted } = listedAndCounted(m);
        expect(listed.size + counted).toBe(expected);
      }
    });
  }
});
