import { describe, expect, it } from 'vitest';
import type { StateFault } from '../../../src/model/state-fault.js';
import { dingtalkBytes, DINGTALK_MAX_BYTES, type DingTalkMarkdown } from '../../../src/render/dingtalk.js';
import { slackProblems, type SlackMessage } from '../../../src/render/slack.js';
import { renderStateDown } from '../../../src/render/state-down.js';

const FAULTS: StateFault[] = [
  'network-acl',
  'credentials',
  'permission',
  'instance',
  'table-missing',
  'unavailable',
  'unknown',
];

describe('the notice that the state cannot be reached', () => {
  it.each(['en', 'zh'] as const)("stays within both platforms' limits whatever the service said (%s)", (lang) => {
    const facts = {
      where: 'Tablestore inst/' + 't'.repeat(255),
      code: 'OTS' + 'X'.repeat(500),
      message: '@all [x](https://evil) ' + 'm'.repeat(100_000),
      fault: 'unknown' as const,
    };
    const d = renderStateDown('dingtalk', facts, lang) as DingTalkMarkdown;
    const s = renderStateDown('slack', facts, lang) as SlackMessage;
    expect(dingtalkBytes(d)).toBeLessThan(DINGTALK_MAX_BYTES / 4);
    expect(slackProblems(s)).toEqual([]);
    // The service's words cannot mention, link or format.
    expect(d.markdown.text).not.toMatch(/@all|\]\(https/);
    expect(JSON.stringify(s)).not.toMatch(/<!|\]\(https/);
    expect(d.markdown.text.startsWith('#### ACR')).toBe(true);
  });

  it('names a different fix for each fault, in both languages', () => {
    for (const lang of ['en', 'zh'] as const) {
      const fixes = FAULTS.map((fault) => JSON.stringify(renderStateDown('slack', { where: 'w', fault }, lang)));
      expect(new Set(fixes).size).toBe(FAULTS.length);
    }
    const acl = renderStateDown(
      'dingtalk',
      {
        where: 'Tablestore a/b',
        code: 'OTSAuthFailed',
        message: 'Request denied by instance ACL policies.',
        fault: 'network-acl',
      },
      'en',
    ) as DingTalkMarkdown;
    expect(acl.markdown.text).toContain(
      'Tablestore a/b answered `OTSAuthFailed: Request denied by instance ACL policies.`',
    );
    expect(acl.markdown.text).toContain('Network Management');
  });
});
