import { describe, expect, it } from 'vitest';
import { renderDingTalk } from '../../../src/render/dingtalk.js';
import { line, type Doc } from '../../../src/render/doc.js';

const UTC = { lang: 'en' as const, timeZone: 'UTC' };
const doc: Doc = { title: ['ACR: 1 sync failed'], tone: 'high', sections: [{ lines: [line('text', 'x')] }], notes: [] };

describe('DingTalk mentions', () => {
  // DingTalk's custom-robot docs: the text must hold "@<userId>" (or "@<mobile>") for the mention to show.
  it('writes each user id into the text as @userId, beside the mobiles, and lists both in at', () => {
    const m = renderDingTalk(doc, UTC, { mobiles: ['13800000000'], userIds: ['ops-lead', 'manager01'] });
    expect(m.markdown.text.split('\n\n').at(-1)).toBe('@13800000000 @ops-lead @manager01');
    expect(m.at).toEqual({ atMobiles: ['13800000000'], atUserIds: ['ops-lead', 'manager01'], isAtAll: false });
  });

  it('writes user ids alone when no mobile is configured', () => {
    const m = renderDingTalk(doc, UTC, { mobiles: [], userIds: ['ops-lead'] });
    expect(m.markdown.text).toMatch(/\n\n@ops-lead$/);
  });

  it('writes no mention and no at without people', () => {
    const m = renderDingTalk(doc, UTC, { mobiles: [], userIds: [] });
    expect(m.markdown.text).not.toContain('@');
    expect(m.at).toBeUndefined();
  });
});
