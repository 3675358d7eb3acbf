import { describe, expect, it } from 'vitest';
import type { SyncTask } from '../../src/model/task.js';
import { fitLines, formatTime, groupByCause, localeOf, rerunCommand } from '../../src/render/common.js';
import { contentOf } from '../../src/render/content.js';
import { DINGTALK_MAX_BYTES, dingtalkInert, renderDingTalk } from '../../src/render/dingtalk.js';
import { renderSlack, SLACK_MAX_BLOCKS, SLACK_SECTION_MAX, slackCode } from '../../src/render/slack.js';
import type { FailureAlert as Alert } from '../../src/model/alert.js';

const ISSUES = ['OSS_POLICY_UNAUTHORIZED', 'TAG_CONFLICT', 'UNSUPPORTED_FORMAT', 'INTERNAL_ERROR', 'NETWORK_ERROR', 'DATA_LENGTH_EXCEEDED', ''];
function alert(i: number, over: Partial<SyncTask> = {}, ruleName = 'rule-a'): Alert {
  const task: SyncTask = {
    taskId: `rst-${i}`, status: 'ERROR', issue: ISSUES[i % ISSUES.length]!, trigger: 'PASSIVE', createTime: 1_800_000_030_000 - i * 1000, crossUser: false,
    from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: 'prod', repo: `svc-${i}`, tag: 'v1' },
    to: { instanceId: 'cri-dst', regionId: 'cn-shanghai', namespace: 'prod', repo: `svc-${i}`, tag: 'v1' },
    ruleId: 'crsr-1', ...over,
  };
  return { id: `cn-hangzhou:cri-src/${task.taskId}`, instance: 'cn-hangzhou:cri-src', task, rule: { ruleId: 'crsr-1', name: ruleName, scope: 'NAMESPACE' } };
}
const many = (n: number) => Array.from({ length: n }, (_, i) => alert(i));
const countedIn = (text: string) => [...text.matchAll(/(?:and|另有) (\d+) more|另有 (\d+) 个/g)].reduce((s, m) => s + Number(m[1] ?? m[2]), 0);

describe('grouping', () => {
  it('groups by cause, most severe first, and keeps every alert', () => {
    const groups = groupByCause(contentOf(many(70)).groups);
    expect(groups[0]!.classification.issue).toBe('OSS_POLICY_UNAUTHORIZED');
    expect(groups.reduce((n, g) => n + g.alerts.length, 0)).toBe(70);
    expect(groups).toHaveLength(7);
  });
});

describe('fitLines', () => {
  it('fills groups in order within the budget and the per-group cap', () => {
    expect(fitLines([{ lines: [10, 10, 10] }, { lines: [10, 10] }], 45, 2, 5)).toEqual([2, 2]);
    expect(fitLines([{ lines: [10, 10, 10] }, { lines: [10, 10] }], 44, 2, 5)).toEqual([2, 1]);
    expect(fitLines([{ lines: [10] }], 5, 10, 1)).toEqual([0]);
  });
});

describe('DingTalk rendering', () => {
  it('shows each failure with route, rule, trigger, task id and time', () => {
    const m = renderDingTalk(contentOf([alert(1)]), 'en');
    expect(m.msgtype).toBe('markdown');
    expect(m.markdown.title).toBe('ACR image sync failed: 1 new failure');
    expect(m.markdown.text).toContain('**prod/svc-1:v1** cn-hangzhou/cri-src → cn-shanghai/cri-dst · rule rule-a · PASSIVE · rst-1 · 2027-01-15 08:00 UTC');
  });

  it('cuts thousands of failures to fit, and counts every one it leaves out', () => {
    for (const lang of ['en', 'zh'] as const) {
      const m = renderDingTalk(contentOf(many(5000)), lang);
      expect(Buffer.byteLength(JSON.stringify(m))).toBeLessThanOrEqual(DINGTALK_MAX_BYTES + 500);
      const listed = (m.markdown.text.match(/rst-\d+/g) ?? []).length;
      expect(listed + countedIn(m.markdown.text)).toBe(5000);
    }
  });

  it('links each instance to its region\'s instance list in the ACR console', () => {
    expect(renderDingTalk(contentOf([alert(1)]), 'en').markdown.text).toContain('[cn-hangzhou:cri-src](https://cr.console.aliyun.com/cn-hangzhou/instances) (1)');
    expect(JSON.stringify(renderSlack(contentOf([alert(1)]), 'en'))).toContain('<https://cr.console.aliyun.com/cn-hangzhou/instances|cn-hangzhou:cri-src> (1)');
  });

  it('gives transient failures the exact aliyun commands to re-run the sync through its rule, and only those', () => {
    const net = alert(4); // ISSUES[4] is NETWORK_ERROR
    const cmd = 'REPO_ID=$(aliyun cr GetRepository --region cn-hangzhou --InstanceId cri-src --RepoNamespaceName prod --RepoName svc-4 | jq -r .RepoId) && aliyun cr CreateRepoSyncTaskByRule --region cn-hangzhou --InstanceId cri-src --SyncRuleId crsr-1 --RepoId "$REPO_ID" --Tag v1';
    expect(rerunCommand(net.task)).toBe(cmd);
    expect(renderDingTalk(contentOf([net]), 'en').markdown.text).toContain(`re-run: \`${cmd}\``);
    // Slack's mrkdwn shows &amp; as &, so the command reads the same there.
    expect(JSON.stringify(renderSlack(contentOf([net]), 'en'))).toContain(JSON.stringify(cmd.replace(/&/g, '&amp;')).slice(1, -1));
    expect(renderDingTalk(contentOf([alert(1)]), 'en').markdown.text).not.toContain('aliyun cr'); // TAG_CONFLICT: not transient
  });

  it('leaves the command out when a name could do something in a shell', () => {
    expect(rerunCommand(alert(4, { from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: 'prod', repo: 'svc', tag: 'v1;rm -rf ~' } }).task)).toBeUndefined();
    expect(rerunCommand(alert(4, { ruleId: undefined }).task)).toBeUndefined();
  });

  it('writes Chinese with China Standard Time', () => {
    const m = renderDingTalk(contentOf([alert(1)]), 'zh');
    expect(m.markdown.text).toContain('ACR 镜像同步失败:新增 1 个');
    expect(m.markdown.text).toContain('2027-01-15 16:00 UTC+8');
    expect(formatTime(0, localeOf('en'))).toBe('1970-01-01 00:00 UTC');
  });

  it('shows times in a route\'s own time zone, with its offset', () => {
    expect(formatTime(Date.parse('2027-01-15T08:00:00Z'), { lang: 'en', timeZone: 'Asia/Kolkata' })).toBe('2027-01-15 13:30 UTC+5:30');
    expect(formatTime(Date.parse('2027-07-15T08:00:00Z'), { lang: 'en', timeZone: 'America/New_York' })).toBe('2027-07-15 04:00 UTC-4');
    const m = renderSlack(contentOf([alert(1)]), { lang: 'zh', timeZone: 'Europe/Berlin' });
    expect(JSON.stringify(m)).toContain('2027-01-15 09:00 UTC+1');
    expect(JSON.stringify(m)).toContain('ACR 镜像同步失败');
  });

  it('keeps hostile names from mentioning, linking or breaking the layout', () => {
    const evil = alert(1, { from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: '@all', repo: 'x](http://evil.example)\n### boom', tag: '*v1*' } }, '<@all> [click](https://phish.example)');
    const text = renderDingTalk(contentOf([evil]), 'en').markdown.text;
    expect(text).not.toMatch(/@all/);
    // The only links are ours, to the ACR console.
    expect(text.match(/\]\((?!https:\/\/cr\.console\.aliyun\.com\/)/g)).toBeNull();
    expect(text).not.toContain('https://phish');
    expect(text).not.toContain('\n### boom');
    expect(dingtalkInert('a@b')).toBe('a＠b');
  });
});

describe('Slack rendering', () => {
  it('stays within Block Kit limits for thousands of failures, and counts every one', () => {
    const m = renderSlack(contentOf(many(5000)), 'en');
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
    for (const b of m.blocks as { text?: { text: string } }[]) expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(SLACK_SECTION_MAX);
    expect(JSON.stringify(m.blocks).length).toBeLessThan(13_000);
    const all = JSON.stringify(m.blocks);
    expect((all.match(/rst-\d+/g) ?? []).length + countedIn(all)).toBe(5000);
    expect(m.text).toContain('5000 new failures');
  });

  it('escapes names so they cannot mention a channel or inject links', () => {
    const evil = alert(1, { from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: '<!channel>', repo: 'a&b', tag: '`x`<https://evil|ok>' } }, '<!here> `');
    const json = JSON.stringify(renderSlack(contentOf([evil]), 'en'));
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<!here>');
    expect(json).not.toContain('<https://evil');
    expect(json).toContain('&lt;!channel&gt;');
    expect(slackCode('a`b\nc')).toBe('`aˋb c`');
  });
});
