import { describe, expect, it } from 'vitest';
import { dingtalkBytes, dingtalkInert, renderDingTalk } from '../../../src/render/dingtalk.js';
import { api, at, bold, join, line, span, type Doc } from '../../../src/render/doc.js';
import { formatDuration, formatSpan, formatTime, localeOf, shortTime } from '../../../src/render/locale.js';
import { plain } from '../../../src/render/plain.js';
import {
  allBlocks,
  renderSlack,
  slackCode,
  slackEscape,
  slackProblems,
  type SlackMessage,
} from '../../../src/render/slack.js';
import { apiText, FIELD_MAX, shellSafe } from '../../../src/render/text.js';

const UTC = { lang: 'en' as const, timeZone: 'UTC' };
const at0 = Date.parse('2027-01-15T08:00:00Z');

describe('a value from the API on one line', () => {
  it('turns each run of line breaks and controls into one space, C1 controls and line separators included', () => {
    expect(apiText('a\r\n\tb\u0085c\u2028d\u2029e\u007ff')).toBe('a b c d e f');
  });

  it('shows each invisible reordering or zero-width character as a replacement mark', () => {
    expect(apiText('a\u200b\u200bb\u202ec\u2066d\ufeffe\u00adf\u061cg\u180eh\u2060i')).toBe(
      'a\ufffd\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh\ufffdi',
    );
  });

  it('keeps a field of exactly the cap whole and ends a longer one in an ellipsis at the cap', () => {
    expect(apiText('x'.repeat(FIELD_MAX))).toBe('x'.repeat(FIELD_MAX));
    expect(apiText('x'.repeat(FIELD_MAX + 1))).toBe(`${'x'.repeat(FIELD_MAX - 1)}…`);
    expect(apiText('abcdef', 4)).toBe('abc…');
    expect(apiText('abcd', 4)).toBe('abcd');
  });

  it('counts characters outside the basic plane as one and never splits one', () => {
    const rocket = '🚀';
    expect(apiText(rocket.repeat(FIELD_MAX))).toBe(rocket.repeat(FIELD_MAX));
    expect(apiText(rocket.repeat(FIELD_MAX + 1))).toBe(`${rocket.repeat(FIELD_MAX - 1)}…`);
    expect(apiText(`${'a'.repeat(3)}${rocket.repeat(3)}`, 5)).toBe(`aaa${rocket}…`);
    // Longer in UTF-16 units than the cap, yet within it in characters.
    expect(apiText(`ab${rocket}${rocket}`, 4)).toBe(`ab${rocket}${rocket}`);
  });

  it('takes as shell-safe only plain names that start with a letter or digit, up to 128 characters', () => {
    expect(['prod', 'svc_a-1.2', 'A', '9'.repeat(128)].every(shellSafe)).toBe(true);
    expect(
      [undefined, '', '-rf', '.hidden', 'a b', 'a;b', '$(x)', 'a/b', '9'.repeat(129), 'ok\n'].some(shellSafe),
    ).toBe(false);
  });
});

describe("times and durations in the reader's zone", () => {
  it('takes a language alone as its default zone and a locale as given', () => {
    expect(localeOf('zh')).toEqual({ lang: 'zh', timeZone: 'Asia/Shanghai' });
    expect(localeOf('en')).toEqual({ lang: 'en', timeZone: 'UTC' });
    expect(localeOf({ lang: 'zh', timeZone: 'UTC' })).toEqual({ lang: 'zh', timeZone: 'UTC' });
  });

  it('gives a moment with its date and offset, and within a list as month, day and time', () => {
    expect(formatTime(at0 + 59_999, UTC)).toBe('2027-01-15 08:00 UTC');
    expect(formatTime(at0 + 60_000, UTC)).toBe('2027-01-15 08:01 UTC');
    expect(formatTime(at0, { lang: 'en', timeZone: 'America/New_York' })).toBe('2027-01-15 03:00 UTC-5');
    expect(shortTime(at0, { lang: 'zh', timeZone: 'Asia/Shanghai' })).toBe('01-15 16:00');
  });

  it('gives a span within a day once with its date, and both dates when it crosses into another day, month or year', () => {
    expect(formatSpan(at0, at0 + 65 * 60_000, UTC)).toBe('2027-01-15 08:00–09:05 UTC');
    expect(formatSpan(at0, at0 + 20 * 3_600_000, UTC)).toBe('2027-01-15 08:00 – 01-16 04:00 UTC');
    expect(formatSpan(at0, Date.parse('2027-02-15T09:00:00Z'), UTC)).toBe('2027-01-15 08:00 – 02-15 09:00 UTC');
    expect(formatSpan(Date.parse('2026-01-15T08:00:00Z'), at0, UTC)).toBe('2026-01-15 08:00 – 01-15 08:00 UTC');
  });

  it('says a duration in minutes below an hour, hours below two days, days above, never less than a minute', () => {
    const m = 60_000;
    expect(formatDuration(0, 'en')).toBe('1 min');
    expect(formatDuration(29_999, 'en')).toBe('1 min');
    expect(formatDuration(59 * m, 'en')).toBe('59 min');
    expect(formatDuration(59.5 * m, 'en')).toBe('1 h 0 min');
    expect(formatDuration(135 * m, 'en')).toBe('2 h 15 min');
    expect(formatDuration(48 * 60 * m - m, 'en')).toBe('47 h 59 min');
    expect(formatDuration(48 * 60 * m, 'en')).toBe('2 d 0 h');
    expect(formatDuration((76 * 60 + 59) * m, 'en')).toBe('3 d 4 h');
    expect(formatDuration(45 * m, 'zh')).toBe('45 分钟');
    expect(formatDuration(135 * m, 'zh')).toBe('2 小时 15 分钟');
    expect(formatDuration(76 * 60 * m, 'zh')).toBe('3 天 4 小时');
  });
});

describe('pieces as plain text', () => {
  it('shows values capped and flattened, times in the zone, and link and bold text without markup', () => {
    const parts = [
      'a ',
      api('x\ny'),
      ' ',
      at(at0),
      ' ',
      at(at0, true),
      ' ',
      span(at0, at0 + 3_600_000),
      ' ',
      { link: 'https://x.example', text: ['L', api('*')] },
      bold('B', api('<')),
      ' ',
      span(at0, at0 + 59_000),
    ];
    expect(plain(parts, UTC)).toBe(
      'a x y 2027-01-15 08:00 UTC 01-15 08:00 2027-01-15 08:00–09:00 UTC L*B< 2027-01-15 08:00 UTC',
    );
  });

  it('joins non-empty runs with the separator', () => {
    expect(join([['a'], [], ['b', 'c'], []], ' · ')).toEqual(['a', ' · ', 'b', 'c']);
    expect(join([[], []], ' · ')).toEqual([]);
  });
});

const doc = (over: Partial<Doc> = {}): Doc => ({
  title: ['T ', api('<!here> & [x](y)')],
  tone: 'low',
  sections: [],
  notes: [],
  ...over,
});

describe('DingTalk markdown', () => {
  it('turns every markup character, line break and link of a value into inert look-alikes', () => {
    // Parentheses stay: without "[" and "]" they make no link.
    expect(dingtalkInert('@[]()*#><`|~!\\')).toBe('＠［］()＊＃＞＜｀｜～！＼');
    expect(dingtalkInert('[x](https://evil.example)')).toBe('［x］(https:／／evil.example)');
    expect(dingtalkInert('a\r\n\u0000b\u2028c\u007fd')).toBe('a b c d');
    expect(dingtalkInert('https://x.example')).toBe('https:／／x.example');
    expect(dingtalkInert('plain-name_1.2')).toBe('plain-name_1.2');
  });

  it('titles the notification in plain text with values inert, and heads the text with the same words', () => {
    const m = renderDingTalk(doc({ title: ['🔴 ', bold('B'), api('*x*'), ' at ', at(at0)] }), UTC);
    expect(m.markdown.title).toBe('🔴 B＊x＊ at 2027-01-15 08:00 UTC');
    expect(m.markdown.text).toBe('#### 🔴 **B**＊x＊ at 2027-01-15 08:00 UTC');
    expect(m.msgtype).toBe('markdown');
  });

  it('keeps list items and numbered steps in one paragraph each, and every other line a paragraph of its own', () => {
    const m = renderDingTalk(
      doc({
        title: ['T'],
        sections: [
          {
            lines: [
              line('head', 'H'),
              line('item', 'a'),
              line('item', 'b'),
              line('text', 'fix'),
              line('step', 's1'),
              line('step', 's2'),
              line('step', 's3'),
              line('item', 'c'),
              line('quote', 'q'),
            ],
          },
          { lines: [line('step', 'again'), line('text', span(at0, at0 + 20 * 3_600_000))] },
        ],
        notes: [
          line('note', 'n', {
            link: 'https://cr.console.aliyun.com/cn-shenzhen/instances',
            text: [api('cn-shenzhen:[i]')],
          }),
        ],
      }),
      UTC,
    );
    expect(m.markdown.text.split('\n\n')).toEqual([
      '#### T',
      'H',
      '- a\n- b',
      'fix',
      '1. s1\n2. s2\n3. s3',
      '- c',
      '> q',
      '1. again',
      '2027-01-15 08:00 – 01-16 04:00 UTC',
      'n[cn-shenzhen:［i］](https://cr.console.aliyun.com/cn-shenzhen/instances)',
    ]);
  });

  it("keeps every piece of a link's text, values inert", () => {
    const m = renderDingTalk(
      doc({
        title: ['T'],
        sections: [
          {
            lines: [
              line('text', {
                link: 'https://cr.console.aliyun.com/cn-shenzhen/instances',
                text: ['see ', api('a*b'), ' now'],
              }),
            ],
          },
        ],
      }),
      UTC,
    );
    expect(m.markdown.text).toBe('#### T\n\n[see a＊b now](https://cr.console.aliyun.com/cn-shenzhen/instances)');
  });

  it('writes mobile and user id mentions into the text and names people in "at", never everyone', () => {
    const m = renderDingTalk(doc({ title: ['T'] }), UTC, { mobiles: ['138', '139'], userIds: ['ops'] });
    expect(m.markdown.text).toBe('#### T\n\n@138 @139 @ops');
    expect(m.at).toEqual({ atMobiles: ['138', '139'], atUserIds: ['ops'], isAtAll: false });
    const ids = renderDingTalk(doc({ title: ['T'] }), UTC, { mobiles: [], userIds: ['ops'] });
    expect(ids.markdown.text).toBe('#### T\n\n@ops');
    expect(ids.at).toEqual({ atMobiles: [], atUserIds: ['ops'], isAtAll: false });
    expect(renderDingTalk(doc({ title: ['T'] }), UTC, { mobiles: [], userIds: [] })).not.toHaveProperty('at');
  });

  it('counts the body in UTF-8 bytes, with the id the sender adds', () => {
    const m = renderDingTalk(doc({ title: ['同'] }), UTC);
    expect(dingtalkBytes(m)).toBe(Buffer.byteLength(JSON.stringify(m), 'utf8') + 48);
    expect(Buffer.byteLength(JSON.stringify(m), 'utf8')).toBeGreaterThan(JSON.stringify(m).length);
  });
});

describe('Slack mrkdwn and Block Kit', () => {
  it('escapes the three control characters of mrkdwn', () => {
    expect(slackEscape('a&b<c>d&&')).toBe('a&amp;b&lt;c&gt;d&amp;&amp;');
  });

  it('puts a value in one code span: trimmed, flattened, no backtick, never empty', () => {
    expect(slackCode('  a`b\nc  ')).toBe('`aˋb c`');
    expect(slackCode('')).toBe('` `');
    expect(slackCode(' \n ')).toBe('` `');
    expect(slackCode('<@U1>')).toBe('`&lt;@U1&gt;`');
  });

  it('caps a code span at 300 characters after escaping, without splitting an escape', () => {
    expect(slackCode('&'.repeat(60))).toBe(`\`${'&amp;'.repeat(60)}\``);
    expect(slackCode(`aaaa${'&'.repeat(100)}`)).toBe(`\`aaaa${'&amp;'.repeat(59)}…\``);
    expect(slackCode(`aaa${'&'.repeat(100)}`)).toBe(`\`aaa${'&amp;'.repeat(59)}…\``);
    expect(slackCode(`aaaaa${'&'.repeat(59)}bbbb`)).toBe(`\`aaaaa${'&amp;'.repeat(58)}…\``);
    expect(slackCode('y'.repeat(500))).toBe(`\`${'y'.repeat(FIELD_MAX - 1)}…\``);
  });

  it("gives times as Slack dates in the reader's zone, falling back to the route's zone, to the second", () => {
    const s = renderSlack(
      doc({
        sections: [{ lines: [line('text', at(at0 + 1_999), ' ', at(at0, true), ' ', span(at0, at0 + 3_600_000))] }],
      }),
      UTC,
    );
    expect((allBlocks(s)[1] as { text: { text: string } }).text.text).toBe(
      `<!date^${at0 / 1000 + 1}^{date_num} {time}|2027-01-15 08:00 UTC> <!date^${at0 / 1000}^{date_num} {time}|01-15 08:00> ` +
        `<!date^${at0 / 1000}^{date_num} {time}|2027-01-15 08:00 UTC>–<!date^${at0 / 1000 + 3600}^{date_num} {time}|2027-01-15 09:00 UTC>`,
    );
  });

  it('lays lines out as bullets, numbered steps, quotes, bold, links and code blocks', () => {
    const s = renderSlack(
      doc({
        sections: [
          {
            lines: [
              line('head', bold('B ', api('*'))),
              line('item', 'a&b'),
              line('step', 's1'),
              line('step', 's2'),
              line('text', 't'),
              line('step', 'again'),
              line('quote', 'q'),
              line('command', 'run it'),
              line('text', {
                link: 'https://cr.console.aliyun.com/cn-shenzhen/instances',
                text: [api('cn-shenzhen:a|b`c<d>')],
              }),
            ],
          },
        ],
      }),
      UTC,
    );
    expect((allBlocks(s)[1] as { text: { text: string } }).text.text.split('\n')).toEqual([
      '*B `*`*',
      '• a&amp;b',
      '1. s1',
      '2. s2',
      't',
      '1. again',
      '> q',
      '```run it```',
      '<https://cr.console.aliyun.com/cn-shenzhen/instances|cn-shenzhen:a¦bˋc&lt;d&gt;>',
    ]);
  });

  it('puts the banner in a header and the notification, values with look-alike angle brackets', () => {
    const s = renderSlack(doc({ title: ['T & ', api('<!here>'), ' ', bold('b')] }), UTC);
    expect(s.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'T & ‹!here› b', emoji: true } });
    expect(s.text).toBe('T &amp; ‹!here› b');
  });

  it('calls in user groups and users after the header, and nobody when the list is empty', () => {
    expect(renderSlack(doc(), UTC, ['S0456DEF', 'U0123ABC']).blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '<!subteam^S0456DEF> <@U0123ABC>' },
    });
    expect(renderSlack(doc(), UTC, []).blocks).toHaveLength(1);
    expect(renderSlack(doc(), UTC).blocks).toHaveLength(1);
  });

  it('colours the bar by tone: blind and high red, medium orange, low yellow, good green, info blue', () => {
    const color = (tone: Doc['tone']) => renderSlack(doc({ tone }), UTC).attachments[0]!.color;
    expect(['high', 'blind', 'medium', 'low', 'good', 'info'].map((t) => color(t as Doc['tone']))).toEqual([
      '#E01E5A',
      '#E01E5A',
      '#F2952F',
      '#ECB22E',
      '#2EB67D',
      '#36C5F0',
    ]);
  });

  it('divides sections, splits a long one between lines into sections of at most 3,000 characters, and ends with the notes', () => {
    const l = (c: string, n: number) => line('text', c.repeat(n));
    const s = renderSlack(
      doc({
        sections: [{ lines: [l('a', 1_000), l('b', 1_997), l('c', 1), l('d', 5)] }, { lines: [l('e', 1)] }],
        notes: [line('note', 'n1'), line('note', 'n2')],
      }),
      UTC,
    );
    const body = s.attachments[0]!.blocks as {
      type: string;
      text?: { text: string };
      elements?: { type: string; text: string }[];
    }[];
    expect(body.map((b) => b.type)).toEqual(['section', 'section', 'divider', 'section', 'context']);
    expect(body[0]!.text!.text).toBe(`${'a'.repeat(1_000)}\n${'b'.repeat(1_997)}\nc`);
    expect(body[0]!.text!.text).toHaveLength(3_000);
    expect(body[1]!.text!.text).toBe('ddddd');
    expect(body[4]!.elements).toEqual([
      { type: 'mrkdwn', text: 'n1' },
      { type: 'mrkdwn', text: 'n2' },
    ]);
    expect(
      renderSlack(doc({ sections: [{ lines: [l('a', 1)] }] }), UTC).attachments[0]!.blocks.map((b) => b.type),
    ).toEqual(['section']);
    const split = renderSlack(doc({ sections: [{ lines: [l('x', 1_500), l('y', 1_500)] }] }), UTC).attachments[0]!
      .blocks as { text: { text: string } }[];
    expect(split.map((b) => b.text.text.length)).toEqual([1_500, 1_500]);
  });

  it('names each limit a message breaks: blocks, header, section, context, total', () => {
    const section = (n: number) => ({ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(n) } });
    const m = (blocks: Record<string, unknown>[]): SlackMessage => ({
      text: '',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h' } }],
      attachments: [{ color: '', blocks }],
    });
    expect(slackProblems(m([section(3_000)]))).toEqual([]);
    expect(slackProblems(m([section(3_001)]))).toEqual(['section of 3001']);
    expect(slackProblems(m(Array.from({ length: 49 }, () => ({ type: 'divider' }))))).toEqual([]);
    expect(slackProblems(m(Array.from({ length: 50 }, () => ({ type: 'divider' }))))).toEqual(['51 blocks']);
    expect(
      slackProblems(
        m([
          {
            type: 'context',
            elements: [
              { type: 'mrkdwn', text: 'x'.repeat(3_000) },
              { type: 'mrkdwn', text: 'x'.repeat(3_001) },
            ],
          },
        ]),
      ),
    ).toEqual(['context of 3001']);
    expect(slackProblems(m([{ type: 'context', elements: [{ type: 'image' }] }]))).toEqual([]);
    const header = (n: number): SlackMessage => ({
      text: '',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(n) } }],
      attachments: [],
    });
    expect(slackProblems(header(150))).toEqual([]);
    expect(slackProblems(header(151))).toEqual(['header of 151']);
    expect(slackProblems(header(3_001))).toEqual(['header of 3001']);
    const one = m([section(100)]);
    const total = JSON.stringify(allBlocks(one)).length;
    expect(slackProblems(one, total)).toEqual([]);
    expect(slackProblems(one, total - 1)).toEqual([`${total} characters of blocks`]);
    expect(
      slackProblems(
        m([section(2_000), section(2_000), section(2_000), section(2_000), section(2_000), section(2_000)]),
      ),
    ).toEqual([
      `${JSON.stringify(allBlocks(m([section(2_000), section(2_000), section(2_000), section(2_000), section(2_000), section(2_000)]))).length} characters of blocks`,
    ]);
  });

  it('finds every block of a message, with or without attachments', () => {
    expect(allBlocks({ blocks: [{ type: 'a' }] })).toEqual([{ type: 'a' }]);
    expect(
      allBlocks({
        attachments: [
          { color: '', blocks: [{ type: 'b' }] },
          { color: '', blocks: [{ type: 'c' }] },
        ],
      }),
    ).toEqual([{ type: 'b' }, { type: 'c' }]);
    expect(allBlocks({})).toEqual([]);
  });
});
