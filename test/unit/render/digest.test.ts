import { describe, expect, it } from 'vitest';
import type { DigestAlert } from '../../../src/model/alert.js';
import { contentOf } from '../../../src/render/content.js';
import { RUNGS, type Detail } from '../../../src/render/detail.js';
import { renderDingTalk } from '../../../src/render/dingtalk.js';
import { renderSlack } from '../../../src/render/slack.js';
import { layout } from '../../../src/render/layout.js';
import type { Locale } from '../../../src/render/locale.js';
import { digest, MIN, T0 } from '../../support/alerts.js';

const UTC: Locale = { lang: 'en', timeZone: 'UTC' };
const ZH: Locale = { lang: 'zh', timeZone: 'Asia/Shanghai' };
const RICH: Detail = { ...RUNGS[0]!, full: 20, lines: 30 };

describe('a digest', () => {
  /** The DingTalk text of a digest at `detail`: what a reader of the message sees. */
  const d = (over: Partial<DigestAlert> = {}, loc: Locale = UTC, detail: Detail = RICH) =>
    renderDingTalk(layout(contentOf([digest(over)]), loc, detail), loc).markdown.text;

  it('heads with its period and route, and tallies failures by cause, largest first, ties by name', () => {
    expect(d()).toContain('**📊 Digest since 2027-01-14 08:00 UTC**\n\nFailures announced');
    expect(d({ route: 'team-a' })).toContain('**📊 Digest since 2027-01-14 08:00 UTC** · route team-a');
    expect(d({ route: 'team-a' }, ZH)).toContain('**📊 告警汇总（自 2027-01-14 16:00 UTC+8 起）** · 路由 team-a');
    expect(d({ byCause: { B: 2, A: 2, C: 5 } })).toContain('Failures announced: 9 (C 5, A 2, B 2)');
    expect(d({ byCause: { B: 2, A: 2, C: 5 } }, ZH)).toContain('已通知的失败：9 次（C 5 次，A 2 次，B 2 次）');
    expect(d({ byCause: {} })).toContain('Failures announced: 0\n');
  });

  it('sums the causes beyond the detail in one entry', () => {
    const byCause = { A: 5, B: 4, C: 3, D: 2 };
    expect(d({ byCause }, UTC, { ...RICH, digest: 2 })).toContain('Failures announced: 14 (A 5, B 4, 2 others 5)');
    expect(d({ byCause }, UTC, { ...RICH, digest: 3 })).toContain('Failures announced: 14 (A 5, B 4, C 3, 1 other 2)');
    expect(d({ byCause }, ZH, { ...RICH, digest: 3 })).toContain('（A 5 次，B 4 次，C 3 次，其余 1 项共 2 次）');
    // Even at the leanest detail the largest cause is named.
    expect(d({ byCause }, UTC, { ...RICH, digest: 0 })).toContain('Failures announced: 14 (A 5, 3 others 9)');
  });

  it('names the repositories that failed more than once and the recoveries with their mean time', () => {
    expect(
      d({
        topRepos: [
          ['prod/api', 5],
          ['prod/db', 2],
          ['prod/web', 1],
        ],
      }),
    ).toContain('Most failing repositories: prod/api 5, prod/db 2');
    expect(d()).toContain('Recovered: 3, mean time to recovery 31 min');
    expect(d({ meanRecoveryMs: undefined })).toContain('Recovered: 3\n');
    expect(d({}, ZH)).toContain('已恢复：3 个，平均恢复耗时 31 分钟');
    expect(d({ recoveries: 1 })).toContain('Recovered: 1,');
    expect(d({ recoveries: 0 })).not.toContain('Recovered');
  });

  it('leaves a repository that failed once out of the most failing, and the line out when no repository did more', () => {
    const repos = (topRepos: [string, number][]) => d({ topRepos });
    expect(
      repos([
        ['prod/api', 5],
        ['prod/web', 1],
      ]),
    ).not.toContain('prod/web');
    expect(repos([['prod/web', 1]])).not.toContain('Most failing repositories');
  });

  it('lists the oldest failures still open as far as the detail allows, counting the rest', () => {
    const t = d({}, UTC, { ...RICH, digest: 1 });
    expect(t).toContain('Still failing: 2, oldest first:');
    expect(t).toContain(
      '- prod/api:v1 → cn-shenzhen:cri-sz01 · failing since 2027-01-15 03:00 UTC · TAG_CONFLICT · rule hz-to-sz · rst-d1\n- …and 1 more',
    );
    expect(t).not.toContain('rst-d2');
    expect(d({}, UTC, { ...RICH, digest: 2 })).not.toContain('…and');
    expect(d({ stillFailing: 0, oldestFailing: [] })).toContain('Still failing: 0\n');
    expect(d({ stillFailing: 0, oldestFailing: [] }, ZH)).toContain('仍在失败的镜像：0 个\n');
    const bare = d({
      stillFailing: 1,
      oldestFailing: [{ instance: 'cn-hangzhou:cri-src', since: T0, issue: '', taskId: 'rst-x', image: 'prod/api:v2' }],
    });
    expect(bare).toContain('- prod/api:v2 · failing since 2027-01-15 08:00 UTC · UNCLASSIFIED · rst-x');
    expect(d({}, ZH)).toContain(
      '- prod/api:v1 → cn-shenzhen:cri-sz01 · 自 2027-01-15 11:00 UTC+8 起失败 · TAG_CONFLICT · 规则 hz-to-sz · rst-d1',
    );
  });

  it('tallies what silences muted, and leaves the line out when nothing was', () => {
    expect(d({ muted: { TAG_CONFLICT: 1, NETWORK_ERROR: 4 } })).toContain(
      'Muted by silences: NETWORK_ERROR 4, TAG_CONFLICT 1',
    );
    expect(d({ muted: {} })).not.toContain('Muted');
  });

  it('lists the silences in force with id, matchers, window or end, author and comment, counting the rest', () => {
    const t = d({
      silences: [
        {
          id: 'sil-0123456789',
          matches: [
            ['namespace', ['prod', 'stage']],
            ['cause', ['TAG_CONFLICT']],
          ],
          createdBy: 'ops@example',
          comment: 'migration',
          until: T0 + 60 * MIN,
        },
        { matches: [['repo', ['api']]], daily: '02:00-04:00', timezone: 'Asia/Shanghai' },
        { matches: [['tag', ['v1']]], daily: '01:00-02:00' },
        { matches: [['tag', ['v2']]] },
      ],
      silencesTotal: 6,
    });
    expect(t).toContain('Silences in force: 6\n');
    expect(t).toContain(
      '- sil-0123 · --namespace prod --namespace stage --cause TAG_CONFLICT · until 2027-01-15 09:00 UTC · by ops＠example · migration',
    );
    expect(t).toContain('- --repo api · daily 02:00-04:00 Asia/Shanghai');
    expect(t).toContain('- --tag v1 · daily 01:00-02:00 UTC');
    expect(t).toContain('- --tag v2\n- …and 2 more silences');
    const zh = d(
      {
        silences: [
          { matches: [['tag', ['v1']]], createdBy: 'ops', until: T0 },
          { matches: [['tag', ['v2']]], daily: '01:00-02:00' },
        ],
      },
      ZH,
    );
    expect(zh).toContain('生效中的静默规则：2 条');
    expect(zh).toContain('- --tag v1 · 截至 2027-01-15 16:00 UTC+8 · 添加人 ops');
    expect(zh).toContain('- --tag v2 · 每天 01:00-02:00 UTC');
    expect(d({ silences: [] })).not.toContain('Silences');
  });

  it('lists as many silences as the detail allows and counts them all when the total is not given', () => {
    const silences = Array.from({ length: 4 }, (_, i) => ({ matches: [['tag', [`v${i}`]]] as [string, string[]][] }));
    const t = d({ silences }, UTC, { ...RICH, digest: 3 });
    expect(t).toContain('Silences in force: 4\n');
    expect(t).toContain('- --tag v2\n- …and 1 more silence');
    expect(t).not.toContain('--tag v3');
    expect(d({ silences }, ZH, { ...RICH, digest: 3 })).toContain('- ……另有 1 条静默规则未列出');
    expect(d({ silences })).not.toContain('more silence');
  });
});

describe('a silence in a digest', () => {
  const both = (matches: [string, string[]][]) => {
    const m = layout(contentOf([digest({ silences: [{ matches }] })]), UTC, RICH);
    return {
      ding: renderDingTalk(m, UTC).markdown.text,
      slack: JSON.stringify(renderSlack(m, UTC)),
    };
  };

  it('shows what it matches as the options of silence add, so it can be pasted back unchanged', () => {
    const { ding, slack } = both([
      ['instance', ['ap-southeast-1:*']],
      ['cause', ['NETWORK_ERROR']],
    ]);
    expect(ding).toContain('- --instance ap-southeast-1:* --cause NETWORK_ERROR');
    expect(slack).toContain('--instance ap-southeast-1:* --cause NETWORK_ERROR');
  });

  it('keeps a hostile pattern inert: markup, a "*" that could open emphasis, a mention', () => {
    const { ding } = both([['repo', ['**a**', 'x*y', '@all', '[l](https://e.example)']]]);
    expect(ding).toContain('--repo ＊＊a＊＊ --repo x＊y --repo ＠all --repo ［l］(https:／／e.example)');
  });
});
