import { describe, expect, it } from 'vitest';
import { renderQuarantined } from '../../../src/render/index.js';

describe('the notice for an alert no rendering could deliver', () => {
  it('is one plain DingTalk text naming the alert and the refusal, in English or Chinese', () => {
    expect(renderQuarantined('dingtalk', 'cn-hangzhou:cri-a/rst-1', '40035', 'en')).toEqual({
      msgtype: 'text',
      text: {
        content: 'ACR: 1 failure could not be delivered to this channel: cn-hangzhou:cri-a/rst-1 (40035), see the log',
      },
    });
    expect(renderQuarantined('dingtalk', 'cn-hangzhou:cri-a/rst-1', '40035', 'zh')).toEqual({
      msgtype: 'text',
      text: { content: 'ACR：1 次失败无法发送到此会话：cn-hangzhou:cri-a/rst-1（40035），详见日志' },
    });
  });

  it('is one plain Slack text with the alert and the refusal as code', () => {
    const p = renderQuarantined('slack', 'cn-hangzhou:cri-a/rst-1', 'invalid_payload', 'en') as { text: string };
    expect(Object.keys(p)).toEqual(['text']);
    expect(p.text).toMatch(/^ACR: 1 failure could not be delivered to this channel: `cn-hangzhou:cri-a\/rst-1`/);
    expect(p.text).toContain('`invalid_payload`');
  });

  it('keeps a hostile alert id inert on both platforms', () => {
    const hostile = '<!channel> @all [x](http://evil) `tick`';
    const ding = renderQuarantined('dingtalk', hostile, 'x', 'en') as { text: { content: string } };
    expect(ding.text.content).not.toContain('[x](http://evil)');
    expect(ding.text.content).not.toContain('@all');
    const slack = renderQuarantined('slack', hostile, 'x', 'en') as { text: string };
    expect(slack.text).not.toContain('<!channel>');
  });
});
