import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/model/alert.js';
import { contentOf } from '../../../src/render/content.js';
import { dingtalkBytes, DINGTALK_MAX_BYTES, dingtalkInert } from '../../../src/render/dingtalk.js';
import { MAX_SHRINK, renderFor } from '../../../src/render/index.js';
import { formatTime, localeOf } from '../../../src/render/locale.js';
import { allBlocks, slackCode, slackProblems } from '../../../src/render/slack.js';
import { digest, failure, listedAndCounted, MIN, notice, recovered, stuck, T0 } from '../../support/alerts.js';

const UTC = { lang: 'en' as const, timeZone: 'UTC' };
const ding = (alerts: Alert[], loc: typeof UTC | { lang: 'zh'; timeZone: string } = UTC) =>
  renderFor('dingtalk', contentOf(alerts), loc);
const slack = (alerts: Alert[], loc: typeof UTC | { lang: 'zh'; timeZone: string } = UTC) =>
  renderFor('slack', contentOf(alerts), loc);
const slackText = (m: ReturnType<typeof slack>) =>
  allBlocks(m)
    .map((b) => JSON.stringify(b))
    .join('\n');
const burst = (n: number, over = {}) => Array.from({ length: n }, (_, i) => failure(i, over));

describe('rollups', () => {
  it('sums up a burst of one rule and cause in one line with count and time span, a few examples, and the rest counted', () => {
    const m = ding(burst(420, { issue: 'OSS_POLICY_UNAUTHORIZED' }));
    const text = m.markdown.text;
    expect(text).toContain(
      '**🔴 ACR not authorised to access OSS** · OSS_POLICY_UNAUTHORIZED · 420 failed, 2027-01-15 01:01–08:00 UTC',
    );
    expect(text).toContain(
      'rule hz-to-sz (automatic) · cn-hangzhou:cri-src → [cn-shenzhen:cri-sz01](https://cr.console.aliyun.com/cn-shenzhen/instances)',
    );
    expect(text.match(/^- prod\/svc-\d+:v1 · rst-\d+ · /gm)).toHaveLength(5);
    expect(text).toContain('- …and 415 more');
    const { listed, counted } = listedAndCounted(m);
    expect(listed.size + counted).toBe(420);
  });

  it('keeps a single failure in full: image, source and target, rule and trigger, task id and time', () => {
    const text = ding([
      failure(1, {
        trigger: 'INITIATIVE',
        to: { instanceId: 'cri-sz01', regionId: 'cn-shenzhen', namespace: 'mirror', repo: 'svc-1', tag: 'v1' },
      }),
    ]).markdown.text;
    expect(text).toContain('**🟡 Network unstable during sync** · NETWORK_ERROR · failed at 2027-01-15 07:59 UTC');
    expect(text).toContain('rule hz-to-sz (automatic) · cn-hangzhou:cri-src → [cn-shenzhen:cri-sz01]');
    expect(text).toContain('- prod/svc-1:v1 → mirror/svc-1:v1 · rst-1 · task triggered manually');
  });

  it('shows the most severe groups in full, the next ones on one line each with their newest image, and counts the rest', () => {
    const alerts: Alert[] = [];
    // 60 groups: one rule per group, 3 failures each; the first is severe.
    for (let g = 0; g < 60; g++) {
      for (let k = 0; k < 3; k++)
        alerts.push(
          failure(
            g * 3 + k,
            { ruleId: `crsr-${g}`, issue: g === 0 ? 'OSS_POLICY_UNAUTHORIZED' : 'TAG_CONFLICT' },
            { name: `rule-${g}` },
          ),
        );
    }
    for (const m of [ding(alerts), slack(alerts)]) {
      const text = JSON.stringify(m);
      expect(text).toContain('ACR not authorised to access OSS');
      expect(text).toMatch(/rule-\d+[`*]*\s*→ .*TAG_CONFLICT.*3 failed, .*newest .*…and 2 more/);
      expect(text).toMatch(/…and \d+ more failures in \d+ other groups/);
      const { listed, counted } = listedAndCounted(m);
      expect(listed.size + counted).toBe(180);
    }
  });
});

describe('banners', () => {
  const title = (alerts: Alert[], lang: 'en' | 'zh' = 'en') => {
    const d = ding(alerts, { lang, timeZone: lang === 'zh' ? 'Asia/Shanghai' : 'UTC' } as typeof UTC);
    const s = slack(alerts, { lang, timeZone: lang === 'zh' ? 'Asia/Shanghai' : 'UTC' } as typeof UTC);
    expect(s.text).toBe(d.markdown.title.replace(/&/g, '&amp;'));
    expect(s.blocks[0]).toMatchObject({ type: 'header', text: { text: d.markdown.title } });
    return d.markdown.title;
  };

  it('say what failed, where, and how bad', () => {
    expect(title(burst(30))).toBe('🟡 ACR: 30× network → cn-shenzhen · 30 syncs failed · rule hz-to-sz');
    expect(title(burst(30), 'zh')).toBe('🟡 ACR：30× 网络不稳定 → cn-shenzhen · 30 个同步任务失败 · 规则 hz-to-sz');
    expect(
      title([...burst(3), failure(9, { issue: 'OSS_POLICY_UNAUTHORIZED', ruleId: 'crsr-x' }, { name: 'prod-to-sg' })]),
    ).toBe('🔴 ACR: 1× OSS not authorised → cn-shenzhen · 4 syncs failed in all, 1 other group · rule prod-to-sg');
  });

  it('give each kind its own status word and mark, and no kind a generic warning sign', () => {
    expect(title([stuck(1)])).toBe('⏳ ACR: 1 sync stuck · prod/api:v1 → cn-shanghai · 2 h 15 min');
    expect(title([stuck(1, 'unstuck')])).toBe('🏁 ACR: 1 stuck sync finished · prod/api:v1 · succeeded');
    expect(title([recovered(1)])).toBe('✅ ACR: 1 sync recovered · prod/api:v1 → cn-shanghai');
    expect(title([notice('blind')])).toBe(
      '🚨 ACR: alerting is blind for cn-hangzhou:cri-src · 3 runs without reading its sync tasks',
    );
    expect(title([notice('restored')])).toBe('🟢 ACR: alerting works again for cn-hangzhou:cri-src');
    expect(title([digest()])).toBe('📊 ACR: digest since 2027-01-14 08:00 UTC · 9 syncs failed · 2 still failing');
    expect(title([notice('blind')], 'zh')).toBe('🚨 ACR：cn-hangzhou:cri-src 的告警已失效 · 连续 3 次无法读取同步任务');
    for (const a of [stuck(1), stuck(1, 'unstuck'), recovered(1), digest(), notice('restored')]) {
      expect(JSON.stringify([ding([a]), slack([a])])).not.toContain('⚠️');
    }
  });

  it('say the stuck sync that finished is finished, not stuck', () => {
    const text = ding([stuck(1, 'unstuck')]).markdown.text;
    expect(text).toContain('**🏁 Stuck syncs that finished** · 1');
    expect(text).toMatch(/finished \(succeeded\) after 2 h 15 min/);
    expect(text).not.toMatch(/1 (sync )?stuck\b(?! sync finished)/);
  });

  it("stay within Slack's 150-character header with long names, keeping the lead words whole", () => {
    const t = title([
      failure(1, {}, { name: 'n'.repeat(300) }),
      stuck(2),
      recovered(3),
      notice('blind', `cn-hangzhou:cri-${'x'.repeat(300)}`),
    ]);
    expect(t.length).toBeLessThanOrEqual(150);
    expect(t.startsWith('🟡 ACR: network → cn-shenzhen · prod/svc-1:v1 · 1 sync failed · rule nnn')).toBe(true);
  });
});

describe('Slack', () => {
  it('colours the bar by how bad the message is', () => {
    expect(slack([failure(1, { issue: 'OSS_POLICY_UNAUTHORIZED' })]).attachments[0]!.color).toBe('#E01E5A');
    expect(slack([failure(1)]).attachments[0]!.color).toBe('#ECB22E');
    expect(slack([recovered(1)]).attachments[0]!.color).toBe('#2EB67D');
    expect(slack([notice('blind')]).attachments[0]!.color).toBe('#E01E5A');
  });

  it("shows times in the reader's zone with the route's time as the fallback", () => {
    const text = slackText(slack([failure(1)], { lang: 'zh', timeZone: 'Asia/Shanghai' }));
    expect(text).toContain(`<!date^${(T0 - MIN) / 1000}^{date_num} {time}|2027-01-15 15:59 UTC+8>`);
  });

  it('escapes every value, the task trigger included, into code spans', () => {
    const evil = failure(
      1,
      {
        trigger: '*bold* <!channel>',
        from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: '<!here>', repo: 'a&b', tag: '`x`' },
      },
      { trigger: '<@U1>' },
    );
    const text = slackText(slack([evil]));
    expect(text).not.toMatch(/<!channel>|<!here>|<@U1>/);
    expect(text).toContain('`*bold* &lt;!channel&gt;`');
    expect(text).toContain('`&lt;@U1&gt;`');
    expect(slackCode('a`b\nc')).toBe('`aˋb c`');
  });
});

describe('noise', () => {
  it('has no footer, no debugging tags or request ids, no "without a known reason" for a reason ACR gave', () => {
    const all = JSON.stringify([
      ding([failure(1), notice('blind')]),
      slack([failure(1), notice('blind')]),
      ding([failure(2, { issue: 'MANIFEST_NOT_FOUND' })]),
    ]);
    expect(all).not.toMatch(/announced once|\[cr config|request 5E2A|without a known reason/);
    expect(all).toContain('cr:GetRepositorySync on this instance');
    expect(JSON.stringify(ding([failure(2, { issue: 'MANIFEST_NOT_FOUND' })]))).toContain(
      'ACR gave a reason (the code above) that this version does not know yet.',
    );
  });

  it('uses only markdown DingTalk documents: no rules, no code', () => {
    const text = ding([
      ...burst(3),
      failure(9, { issue: 'INTERNAL_ERROR' }, null),
      stuck(1),
      recovered(1),
      notice('blind'),
      digest(),
    ]).markdown.text;
    expect(text).not.toMatch(/^---/m);
    expect(text).not.toContain('`');
  });
});

describe('digest', () => {
  it('lists what still fails as image, target, since and cause; counts only where they say something', () => {
    const text = ding([digest()]).markdown.text;
    expect(text).toContain(
      '- prod/api:v1 → cn-shenzhen:cri-sz01 · failing since 2027-01-15 03:00 UTC · TAG_CONFLICT · rule hz-to-sz · rst-d1',
    );
    expect(text).toContain('- cn-hangzhou:cri-src · failing since 2027-01-15 04:40 UTC · NETWORK_ERROR · rst-d2');
    expect(text).toContain('Most failing repositories: prod/api 5');
    expect(text).not.toContain('prod/web');
    expect(
      ding([digest({ topRepos: [['prod/web', 1]], recoveries: 0, meanRecoveryMs: undefined })]).markdown.text,
    ).not.toMatch(/Most failing|Recovered/);
  });

  it('caps the cause tally, summing the rest', () => {
    const byCause = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`CAUSE_${i}`, 40 - i]));
    const text = ding([digest({ byCause })]).markdown.text;
    expect(text).toMatch(/CAUSE_0 40, .*, CAUSE_9 31, 30 others 465\)/);
  });
});

describe('Chinese', () => {
  const zh = { lang: 'zh' as const, timeZone: 'Asia/Shanghai' };
  const sample = () => [
    ...burst(7),
    failure(20, { issue: 'OSS_POLICY_UNAUTHORIZED', ruleId: 'crsr-b' }, { trigger: 'INITIATIVE' }),
    stuck(1),
    stuck(2, 'unstuck'),
    stuck(3, 'stuck', { status: 'PENDING' }),
    recovered(1),
    notice('blind'),
    notice('restored', 'cn-beijing:cri-bj'),
    digest(),
  ];
  // What the message says in its own words: values, links and commands taken out.
  const own = (text: string) =>
    text
      .replace(/`[^`\n]*`|```[^\n]*```|<[^>\n]*>|^.*(\(set -- |id=\$\(|acr-sync-alert ).*$/gm, ' ')
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d(–\d\d:\d\d)? UTC[+-]\d+/g, ' ');

  it('uses full-width punctuation in Chinese sentences and a measure word after every count', () => {
    for (const m of [ding(sample(), zh).markdown.text, slackText(slack(sample(), zh))]) {
      const words = own(m);
      expect(words).not.toMatch(/[\u4e00-\u9fff][:,;()!?]|[:,;(!?][\u4e00-\u9fff]/);
      for (const n of words.matchAll(/\d+ ?(?=[\u4e00-\u9fff])/g))
        expect(words.slice(n.index + n[0].length)).toMatch(/^(个|次|组|类|种|项|小时|分钟|天|失败|起)/);
    }
  });

  it('says trigger and status in Chinese, calls blind alerting what it is, and uses no English words of its own', () => {
    const text = ding(sample(), zh).markdown.text;
    expect(text).toContain('（自动触发）');
    expect(text).toContain('（手动触发）');
    expect(text).toContain('同步中，已持续');
    expect(text).toContain('等待中，已持续');
    expect(text).toContain('无法读取实例 cn-hangzhou:cri-src 的同步任务');
    expect(text).not.toMatch(/失明|PASSIVE|INITIATIVE\)|SYNCHRONIZING|PENDING|中断 \d/);
    expect(own(slackText(slack(sample(), zh)))).not.toMatch(
      /\b(failed|stuck|recovered|rule|since|more|blind|digest|syncing|waiting|automatic|manual|Fix|Re-run|Silence)\b/,
    );
  });
});

// 100,000 failures under `npm test`. Mutation testing sets fewer (still far more than either budget holds, so the
// message is trimmed and the rest counted), since this test runs for every mutant in src/render.
const MANY = Number(process.env.RENDER_BUDGET_FAILURES ?? 100_000);

describe('budgets', () => {
  it("stays inside DingTalk's byte budget and Slack's limits for 100,000 failures, with every one listed or counted", () => {
    const alerts = Array.from({ length: MANY }, (_, i) =>
      failure(i, {
        ruleId: `crsr-${i % 37}`,
        issue: ['NETWORK_ERROR', 'TAG_CONFLICT', 'X'.repeat(300 + (i % 5))][i % 3]!,
      }),
    );
    const c = contentOf(alerts);
    for (const lang of ['en', 'zh'] as const) {
      const d = renderFor('dingtalk', c, localeOf(lang));
      expect(dingtalkBytes(d)).toBeLessThanOrEqual(DINGTALK_MAX_BYTES);
      const s = renderFor('slack', c, localeOf(lang));
      expect(slackProblems(s)).toEqual([]);
      for (const m of [d, s]) {
        const { listed, counted } = listedAndCounted(m);
        expect(counted).toBeGreaterThan(0);
        expect(listed.size + counted).toBe(MANY);
      }
    }
  });

  it('renders smaller at each shrink step, down to the banner and counts', () => {
    const c = contentOf([
      ...burst(300),
      ...Array.from({ length: 40 }, (_, i) => failure(1000 + i, { ruleId: `crsr-${i}`, issue: 'TAG_CONFLICT' })),
      stuck(1),
      recovered(1),
      digest(),
    ]);
    const smallestDing = dingtalkBytes(renderFor('dingtalk', c, UTC, { shrink: MAX_SHRINK }));
    expect(smallestDing).toBeLessThan(1_500);
    let last = Number.POSITIVE_INFINITY;
    for (let shrink = 0; shrink <= MAX_SHRINK + 1; shrink++) {
      const size = dingtalkBytes(renderFor('dingtalk', c, UTC, { shrink }));
      expect(size).toBeLessThanOrEqual(last);
      // Each step fits half the budget of the one before, until nothing smaller exists.
      if (size !== smallestDing) expect(size).toBeLessThanOrEqual(DINGTALK_MAX_BYTES * 0.5 ** shrink);
      last = size;
    }
    expect(last).toBe(smallestDing);
    const smallest = renderFor('slack', c, UTC, { shrink: MAX_SHRINK });
    expect(JSON.stringify(allBlocks(smallest)).length).toBeLessThan(2_500);
    expect(listedAndCounted(smallest).listed.size + listedAndCounted(smallest).counted).toBeGreaterThanOrEqual(340);
  });

  it('caps every free-text field and makes bidi and zero-width characters visible', () => {
    const evil = failure(1, {
      issue: 'Q'.repeat(20_000),
      from: {
        instanceId: 'cri-src',
        regionId: 'cn-hangzhou',
        namespace: 'prod',
        repo: 'gnp\u202Eexe',
        tag: 'pay\u200bment',
      },
    });
    for (const m of [ding([evil]), slack([evil])]) {
      const text = JSON.stringify(m);
      expect(text).not.toMatch(/[\u202e\u200b]/);
      expect(text).toContain('gnp\ufffdexe');
      expect(text).toContain(`${'Q'.repeat(199)}…`);
      expect(text).not.toContain('Q'.repeat(200));
    }
    expect(dingtalkInert('a@b')).toBe('a＠b');
  });
});

describe('time', () => {
  it("shows times in the route's zone with its offset", () => {
    expect(formatTime(Date.parse('2027-01-15T08:00:00Z'), { lang: 'en', timeZone: 'Asia/Kolkata' })).toBe(
      '2027-01-15 13:30 UTC+5:30',
    );
    expect(formatTime(0, localeOf('en'))).toBe('1970-01-01 00:00 UTC');
    expect(ding([failure(0)], { lang: 'zh', timeZone: 'Asia/Shanghai' }).markdown.text).toContain(
      '2027-01-15 16:00 UTC+8 失败',
    );
  });
});
