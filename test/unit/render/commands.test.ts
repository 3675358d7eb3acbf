import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/model/alert.js';
import { COMMAND_MAX, rerunFor, rerunsOf, silenceCommand } from '../../../src/render/commands.js';
import { contentOf } from '../../../src/render/content.js';
import { dingtalkBytes, DINGTALK_MAX_BYTES } from '../../../src/render/dingtalk.js';
import { renderFor, type Locale } from '../../../src/render/index.js';
import { slackProblems } from '../../../src/render/slack.js';
import { failure } from '../../support/alerts.js';

const UTC = { lang: 'en' as const, timeZone: 'UTC' };
const ding = (alerts: Alert[], loc: Locale = UTC) => renderFor('dingtalk', contentOf(alerts), loc);
const burst = (n: number) => Array.from({ length: n }, (_, i) => failure(i));

describe('commands', () => {
  const text = (alerts: Alert[]) => ding(alerts).markdown.text;

  it("re-runs an automatic rule's images with CreateRepoSyncTask, naming the target from ImageTo", () => {
    const t = text([
      failure(1, {
        to: { instanceId: 'cri-sz01', regionId: 'cn-shenzhen', namespace: 'mirror', repo: 'svc-1', tag: 'v1' },
      }),
    ]);
    expect(t).toContain('Re-run (automatic rule: CreateRepoSyncTask):');
    expect(t).toContain(
      'id=$(aliyun cr GetRepository --region cn-hangzhou --InstanceId cri-src --RepoNamespaceName prod --RepoName svc-1 | jq -er .RepoId) && aliyun cr CreateRepoSyncTask --region cn-hangzhou --InstanceId cri-src --RepoId "$id" --Tag v1 --TargetRegionId cn-shenzhen --TargetInstanceId cri-sz01 --TargetNamespace mirror --TargetRepoName svc-1 --TargetTag v1',
    );
    expect(t).not.toContain('CreateRepoSyncTaskByRule');
  });

  it("re-runs a manual rule's images with CreateRepoSyncTaskByRule, as one loop over the group", () => {
    const t = text([failure(1, {}, { trigger: 'INITIATIVE' }), failure(2, {}, { trigger: 'INITIATIVE' })]);
    expect(t).toContain('Re-run (manual rule: CreateRepoSyncTaskByRule):');
    expect(t).toContain(
      '(set -- prod svc-1 v1 prod svc-2 v1; while [ $# -gt 0 ]; do id=$(aliyun cr GetRepository --region cn-hangzhou --InstanceId cri-src --RepoNamespaceName "$1" --RepoName "$2" | jq -er .RepoId) && aliyun cr CreateRepoSyncTaskByRule --region cn-hangzhou --InstanceId cri-src --SyncRuleId crsr-hz2sz --RepoId "$id" --Tag "$3"; shift 3; done)',
    );
    expect(t.match(/aliyun cr CreateRepoSyncTask /g)).toBeNull();
  });

  it("offers both, saying which fits which kind of rule, when the rule's trigger is unknown", () => {
    const t = text([failure(1, {}, null)]);
    expect(t).toContain("The rule's trigger could not be read; use the command for its kind.");
    expect(t).toContain('Re-run (manual rule: CreateRepoSyncTaskByRule):');
    expect(t).toContain('Re-run (automatic rule: CreateRepoSyncTask):');
  });

  it('names the RAM actions once per message, and only when a re-run command is in it', () => {
    const t = text([failure(1, { ruleId: 'crsr-a' }), failure(2, { ruleId: 'crsr-b' })]);
    expect(t.match(/cr:GetRepository and cr:CreateRepositorySync/g)).toHaveLength(1);
    expect(text([failure(1, { issue: 'TAG_CONFLICT' })])).not.toContain('cr:CreateRepositorySync');
  });

  it('re-runs only transient causes, bounds a long loop and leaves out names a shell would read', () => {
    const many = text(burst(60));
    const loop = many.split('\n').find((l) => l.startsWith('(set -- '))!;
    expect(loop.length).toBeLessThanOrEqual(1_600);
    expect(many).toMatch(/Re-run \(automatic rule: CreateRepoSyncTask; the \d+ newest images of 60 failures\):/);
    expect(
      text([
        failure(1, {
          from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: 'prod', repo: 'svc', tag: 'v1;rm -rf ~' },
        }),
      ]),
    ).not.toContain('aliyun cr');
    expect(text([failure(1, { crossUser: true })])).not.toContain('aliyun cr CreateRepoSyncTask ');
  });

  it('gives each group the exact command that silences it, when every value is shell-safe', () => {
    expect(text([failure(1)])).toContain(
      'acr-sync-alert silence add --instance cn-hangzhou:cri-src --rule crsr-hz2sz --cause NETWORK_ERROR --for 2h --comment "why"',
    );
    expect(ding([failure(1, { issue: '' })], { lang: 'zh', timeZone: 'Asia/Shanghai' }).markdown.text).toContain(
      '--cause UNCLASSIFIED --for 2h --comment "原因"',
    );
    expect(text([failure(1, { ruleId: 'crsr-$(x)' })])).not.toContain('silence add');
  });

  it('names the function that sent the message in its silence command, so that it acts on that deployment', () => {
    const deployment = { name: 'acr-sync-alert', region: 'cn-beijing' };
    expect(ding([failure(1)], { ...UTC, deployment }).markdown.text).toContain(
      'acr-sync-alert silence add --instance cn-hangzhou:cri-src --rule crsr-hz2sz --cause NETWORK_ERROR --for 2h ' +
        '--function acr-sync-alert --region cn-beijing --comment "why"',
    );
    const slack = JSON.stringify(renderFor('slack', contentOf([failure(1)]), { ...UTC, deployment }));
    expect(slack).toContain('--for 2h --function acr-sync-alert --region cn-beijing --comment');
    expect(text([failure(1)])).not.toContain('--function');
  });

  it('keeps a burst within the limits with the longest function name FC allows in every silence command', () => {
    const deployment = { name: 'f'.repeat(128), region: 'ap-southeast-1' };
    const alerts = Array.from({ length: 400 }, (_, i) => failure(i, { issue: `ISSUE_${i % 40}`, ruleId: `crsr-${i}` }));
    const d = renderFor('dingtalk', contentOf(alerts), { ...UTC, deployment });
    expect(dingtalkBytes(d)).toBeLessThanOrEqual(DINGTALK_MAX_BYTES);
    expect(d.markdown.text).toContain(`--function ${deployment.name} --region ap-southeast-1`);
    const s = renderFor('slack', contentOf(alerts), { ...UTC, deployment });
    expect(slackProblems(s)).toEqual([]);
    expect(JSON.stringify(s)).toContain(`--function ${deployment.name} --region ap-southeast-1`);
  });

  it('tells the INTERNAL_ERROR fix without naming a call that does not fit the rule', () => {
    const t = text([failure(1, { issue: 'INTERNAL_ERROR' }, { trigger: 'INITIATIVE' })]);
    const fix = t.slice(t.indexOf('**Fix:**'), t.indexOf('Re-run ('));
    expect(fix).toContain('uses the API call that fits the rule');
    expect(fix).not.toMatch(/CreateRepoSyncTask/);
  });
});

describe('the commands of one group', () => {
  const group = (alerts: Alert[]) => contentOf(alerts).groups[0]!;
  const byRule = (over = {}, rule: Parameters<typeof failure>[2] = { trigger: 'INITIATIVE' }) =>
    group([failure(1, over, rule)]);

  it('re-runs one image of a manual rule with one call, no loop', () => {
    expect(rerunFor(byRule(), 'manual')).toEqual({
      kind: 'manual',
      api: 'CreateRepoSyncTaskByRule',
      images: 1,
      command:
        'id=$(aliyun cr GetRepository --region cn-hangzhou --InstanceId cri-src --RepoNamespaceName prod --RepoName svc-1 | jq -er .RepoId) && aliyun cr CreateRepoSyncTaskByRule --region cn-hangzhou --InstanceId cri-src --SyncRuleId crsr-hz2sz --RepoId "$id" --Tag v1',
    });
  });

  it("loops an automatic rule's images six words at a time, naming each target", () => {
    const g = group([
      failure(1),
      failure(2, {
        to: { instanceId: 'cri-sz01', regionId: 'cn-shenzhen', namespace: 'mirror', repo: 'b', tag: 'v2' },
      }),
    ]);
    expect(rerunFor(g, 'automatic')).toEqual({
      kind: 'automatic',
      api: 'CreateRepoSyncTask',
      images: 2,
      command:
        '(set -- prod svc-1 v1 prod svc-1 v1 prod svc-2 v1 mirror b v2; while [ $# -gt 0 ]; do id=$(aliyun cr GetRepository --region cn-hangzhou --InstanceId cri-src --RepoNamespaceName "$1" --RepoName "$2" | jq -er .RepoId) && aliyun cr CreateRepoSyncTask --region cn-hangzhou --InstanceId cri-src --RepoId "$id" --Tag "$3" --TargetRegionId cn-shenzhen --TargetInstanceId cri-sz01 --TargetNamespace "$4" --TargetRepoName "$5" --TargetTag "$6"; shift 6; done)',
    });
  });

  it('fits as many of the newest images in one command as 1,600 characters allow, and not one more', () => {
    const long = (i: number) =>
      failure(i, {
        from: {
          instanceId: 'cri-src',
          regionId: 'cn-hangzhou',
          namespace: 'n'.repeat(60),
          repo: `r${i}${'x'.repeat(60)}`,
          tag: 't'.repeat(60),
        },
      });
    const g = group(Array.from({ length: 20 }, (_, i) => long(i)));
    const r = rerunFor(g, 'manual')!;
    expect(r.images).toBeGreaterThan(1);
    expect(r.images).toBeLessThan(g.images.length);
    expect(r.command.length).toBeLessThanOrEqual(COMMAND_MAX);
    const next = g.images[r.images]!;
    expect(r.command.length + [next.namespace, next.repo, next.tag].join(' ').length + 1).toBeGreaterThan(COMMAND_MAX);
    expect(r.command).toContain(`r0${'x'.repeat(60)}`);
    expect(r.command).not.toContain(`${next.repo} `);
  });

  it('re-runs only what can be built from shell-safe names, and across accounts only by rule', () => {
    const unsafeSource = { ...byRule(), source: 'cn-hangzhou:cri src' };
    expect([rerunFor(unsafeSource, 'manual'), rerunFor(unsafeSource, 'automatic')]).toEqual([undefined, undefined]);
    const noInstance = { ...byRule(), source: 'cn-hangzhou' };
    expect([rerunFor(noInstance, 'manual'), rerunFor(noInstance, 'automatic')]).toEqual([undefined, undefined]);
    const unsafeRule = byRule({ ruleId: 'crsr 1' });
    expect(rerunFor(unsafeRule, 'manual')).toBeUndefined();
    expect(rerunFor(unsafeRule, 'automatic')?.api).toBe('CreateRepoSyncTask');
    const unsafeTarget = byRule({
      to: { instanceId: 'cri-sz01', regionId: 'cn shenzhen', namespace: 'prod', repo: 'svc-1', tag: 'v1' },
    });
    expect(rerunFor(unsafeTarget, 'automatic')).toBeUndefined();
    expect(rerunFor(unsafeTarget, 'manual')?.api).toBe('CreateRepoSyncTaskByRule');
    const unsafeTargetInstance = byRule({
      to: { instanceId: 'cri;x', regionId: 'cn-shenzhen', namespace: 'prod', repo: 'svc-1', tag: 'v1' },
    });
    expect(rerunFor(unsafeTargetInstance, 'automatic')).toBeUndefined();
    const crossed = byRule({ crossUser: true });
    expect(rerunFor(crossed, 'automatic')).toBeUndefined();
    expect(rerunFor(crossed, 'manual')?.api).toBe('CreateRepoSyncTaskByRule');
    expect(rerunFor({ ...byRule(), images: [] }, 'manual')).toBeUndefined();
  });

  it("offers the command for the rule's trigger, or both when it is unknown, as far as each can be built", () => {
    expect(rerunsOf(byRule()).map((r) => r.kind)).toEqual(['manual']);
    expect(rerunsOf(byRule({}, { trigger: 'PASSIVE' })).map((r) => r.kind)).toEqual(['automatic']);
    expect(rerunsOf(byRule({}, null)).map((r) => r.kind)).toEqual(['manual', 'automatic']);
    expect(rerunsOf(byRule({ ruleId: 'crsr 1' }, null)).map((r) => r.kind)).toEqual(['automatic']);
  });

  it('silences a group by instance, rule and cause, without a rule it has none of, and not at all with a name a shell would read', () => {
    expect(silenceCommand(byRule(), 'why')).toBe(
      'acr-sync-alert silence add --instance cn-hangzhou:cri-src --rule crsr-hz2sz --cause NETWORK_ERROR --for 2h --comment "why"',
    );
    expect(silenceCommand(byRule({ ruleId: undefined }), '原因')).toBe(
      'acr-sync-alert silence add --instance cn-hangzhou:cri-src --cause NETWORK_ERROR --for 2h --comment "原因"',
    );
    expect(silenceCommand({ ...byRule(), source: 'cn-hangzhou:cri src' }, 'why')).toBeUndefined();
    expect(silenceCommand({ ...byRule(), source: 'cn hangzhou:cri-src' }, 'why')).toBeUndefined();
    expect(silenceCommand({ ...byRule(), source: 'cn-hangzhou' }, 'why')).toBeUndefined();
    expect(silenceCommand(byRule({ issue: 'no such thing' }), 'why')).toBeUndefined();
    expect(silenceCommand(byRule({ ruleId: 'crsr 1' }), 'why')).toBeUndefined();
  });
});

describe("the re-run loop's length", () => {
  it('takes an image that brings the command to exactly 1,600 characters', () => {
    const image = (i: number, tag: string) =>
      failure(
        i,
        { from: { instanceId: 'cri-src', regionId: 'cn-hangzhou', namespace: 'prod', repo: `r${i}`, tag } },
        { trigger: 'INITIATIVE' },
      );
    // Newer images with long tags, then the oldest, whose tag is sized so that all of them come to 1,600 exactly.
    const build = (fillers: number, pad: number) =>
      contentOf([
        ...Array.from({ length: fillers }, (_, i) => image(i + 1, 't'.repeat(120))),
        image(fillers + 1, 'p'.repeat(pad)),
      ]).groups[0]!;
    let exact: ReturnType<typeof build> | undefined;
    for (let fillers = 1; fillers < 15 && !exact; fillers++) {
      const probe = rerunFor(build(fillers, 1), 'manual')!;
      const pad = 1 + COMMAND_MAX - probe.command.length;
      if (probe.images === fillers + 1 && pad <= 128) exact = build(fillers, pad);
    }
    const r = rerunFor(exact!, 'manual')!;
    expect(r.command.length).toBe(COMMAND_MAX);
    expect(r.images).toBe(exact!.images.length);
  });
});
