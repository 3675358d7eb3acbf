import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { checkedZone, issueLines, MAX_ROUTES, parseRoutes, type RouteDefaults } from '../../../src/config/routes.js';

const SLACK = 'https://hooks.slack.com/services/T9/B9/route-hook-2c4d';
const DING = 'https://oapi.dingtalk.com/robot/send?access_token=route-token-8f1e';
const en: RouteDefaults = { lang: 'en', policy: { anyHost: false } };

/** The routes `raw` becomes, and the problems it was refused with. */
function parse(raw: unknown, defaults: RouteDefaults = en) {
  const problems: string[] = [];
  const routes = parseRoutes(raw, defaults, problems);
  return { routes, problems };
}

describe('routes as configured', () => {
  it('keep their channels, secret and mentions, and match only on the fields given', () => {
    const { routes, problems } = parse([
      {
        name: 'team',
        match: { namespace: 'team-*', cause: ['NETWORK_ERROR'] },
        dingtalk: { webhook: DING, secret: 'SECteam', atMobiles: ['13800000000'], atUserIds: ['lead'] },
        slack: { webhook: SLACK, mentions: ['U0123ABC'] },
      },
    ]);
    expect(problems).toEqual([]);
    const [r] = routes;
    expect(r!.name).toBe('team');
    expect(r!.match).toEqual({ namespace: ['team-*'], cause: ['NETWORK_ERROR'] });
    expect(r!.dingtalk?.webhook.reveal()).toBe(DING);
    expect(r!.dingtalk?.secret?.reveal()).toBe('SECteam');
    expect(r!.slack?.webhook.reveal()).toBe(SLACK);
    expect(r!.mentions).toEqual({ dingtalkMobiles: ['13800000000'], dingtalkUserIds: ['lead'], slack: ['U0123ABC'] });
  });

  it('leave out the channel they do not name', () => {
    const { routes } = parse([
      { name: 'a', match: { repo: 'x' }, slack: { webhook: SLACK } },
      { name: 'b', dingtalk: { webhook: DING } },
    ]);
    expect(routes.map((r) => [r.name, r.dingtalk === undefined, r.slack === undefined, r.dingtalk?.secret])).toEqual([
      ['a', true, false, undefined],
      ['b', false, true, undefined],
    ]);
    expect(routes[0]!.mentions).toEqual({ dingtalkMobiles: [], dingtalkUserIds: [], slack: [] });
  });

  it("take the language and zone left out from the top-level settings, else the language's zone", () => {
    const rs = [
      { name: 'a', match: { repo: 'a' }, slack: { webhook: SLACK } },
      { name: 'b', match: { repo: 'b' }, slack: { webhook: SLACK }, lang: 'zh' },
      { name: 'c', slack: { webhook: SLACK }, timezone: 'Europe/Berlin' },
    ];
    expect(parse(rs).routes.map((r) => [r.lang, r.timeZone])).toEqual([
      ['en', 'UTC'],
      ['zh', 'Asia/Shanghai'],
      ['en', 'Europe/Berlin'],
    ]);
    expect(parse(rs, { ...en, lang: 'zh' }).routes.map((r) => [r.lang, r.timeZone])).toEqual([
      ['zh', 'Asia/Shanghai'],
      ['zh', 'Asia/Shanghai'],
      ['zh', 'Europe/Berlin'],
    ]);
    expect(parse(rs, { ...en, timeZone: 'Asia/Tokyo' }).routes.map((r) => r.timeZone)).toEqual([
      'Asia/Tokyo',
      'Asia/Tokyo',
      'Europe/Berlin',
    ]);
  });

  it('have a digest in their own zone, daily or weekly, or none', () => {
    const { routes } = parse([
      { name: 'a', match: { repo: 'a' }, slack: { webhook: SLACK }, timezone: 'Asia/Tokyo', digest: { at: '09:00' } },
      { name: 'b', match: { repo: 'b' }, slack: { webhook: SLACK }, digest: { at: '23:59', weekday: 'sun' } },
      { name: 'c', slack: { webhook: SLACK } },
    ]);
    expect(routes.map((r) => r.digest)).toEqual([
      { at: '09:00', weekday: undefined, timezone: 'Asia/Tokyo' },
      { at: '23:59', weekday: 'sun', timezone: 'UTC' },
      undefined,
    ]);
  });

  it('a route whose match gives no field catches every alert, at the end', () => {
    const { routes, problems } = parse([
      { name: 'a', match: { repo: 'x' }, slack: { webhook: SLACK } },
      { name: 'rest', match: {}, slack: { webhook: SLACK } },
    ]);
    expect(problems).toEqual([]);
    expect(routes.map((r) => r.match)).toEqual([{ repo: ['x'] }, undefined]);
  });

  it('send a webhook to another host only when the operator allows any host', () => {
    const relay = [{ name: 'a', slack: { webhook: 'https://relay.example/services/x' } }];
    expect(parse(relay).problems).toEqual([expect.stringMatching(/^routes\[0\]\.slack\.webhook must point at Slack/)]);
    expect(parse(relay, { ...en, policy: { anyHost: true } }).routes[0]!.slack?.webhook.reveal()).toBe(
      'https://relay.example/services/x',
    );
  });
});

describe('routes refused', () => {
  it('each route with a problem is left out, the others kept', () => {
    const { routes, problems } = parse([
      { name: 'good', match: { repo: 'x' }, slack: { webhook: SLACK } },
      { name: 'bad', match: { repo: 'y' }, slack: { webhook: SLACK }, timezone: 'Mars/Olympus' },
      { name: 'also-good', slack: { webhook: SLACK } },
    ]);
    expect(routes.map((r) => r.name)).toEqual(['good', 'also-good']);
    expect(problems).toEqual(['routes[1].timezone "Mars/Olympus" is not an IANA time zone (e.g. Asia/Shanghai)']);
  });

  it('a name used twice is refused at the later route, even when the earlier one was refused too', () => {
    const { problems } = parse([
      { name: 'a', match: { repo: 'x' } },
      { name: 'a', slack: { webhook: SLACK } },
    ]);
    expect(problems).toEqual([
      'routes[0] (a) has no dingtalk or slack webhook',
      'routes[1].name "a" is used by an earlier route',
    ]);
  });

  it('the name of the default route is reserved, every time it is used', () => {
    const { problems } = parse([
      { name: 'default', match: { repo: 'x' }, slack: { webhook: SLACK } },
      { name: 'default', slack: { webhook: SLACK } },
    ]);
    expect(problems).toEqual([
      'routes[0].name "default" is reserved for the route DINGTALK_WEBHOOK and SLACK_WEBHOOK make',
      'routes[1].name "default" is reserved for the route DINGTALK_WEBHOOK and SLACK_WEBHOOK make',
    ]);
  });

  it('an empty webhook is named as empty', () => {
    expect(parse([{ name: 'a', dingtalk: { webhook: ' ' } }]).problems).toEqual([
      'routes[0].dingtalk.webhook is empty',
    ]);
    expect(parse([{ name: 'a', slack: { webhook: '' } }]).problems).toEqual(['routes[0].slack.webhook is empty']);
    expect(parse([{ name: 'a', slack: { webhook: ' \n' } }]).problems).toEqual(['routes[0].slack.webhook is empty']);
  });

  it('bad mentions are named by route, field and entry', () => {
    const { problems } = parse([{ name: 'a', dingtalk: { webhook: DING, atMobiles: ['12'], atUserIds: ['a b'] } }]);
    expect(problems).toEqual([
      'routes[0].dingtalk.atMobiles entry "12" must be a phone number as registered in DingTalk',
      'routes[0].dingtalk.atUserIds entry "a b" must be a DingTalk userId',
    ]);
  });

  it('a catch-all is refused anywhere but last, named with its position', () => {
    const rs = [
      { name: 'a', match: { repo: 'x' }, slack: { webhook: SLACK } },
      { name: 'all', slack: { webhook: SLACK } },
      { name: 'c', match: { repo: 'y' }, slack: { webhook: SLACK } },
    ];
    expect(parse(rs).problems).toEqual([
      'routes[1] (all) matches every alert, so the routes after it are never used: move it to the end',
    ]);
  });

  it(`more than ${MAX_ROUTES} routes are refused`, () => {
    const many = Array.from({ length: MAX_ROUTES + 1 }, (_, i) => ({
      name: `r${i}`,
      match: { repo: `${i}` },
      slack: { webhook: SLACK },
    }));
    expect(parse(many)).toEqual({ routes: [], problems: [`routes: at most ${MAX_ROUTES} routes`] });
    expect(parse(many.slice(0, MAX_ROUTES)).routes).toHaveLength(MAX_ROUTES);
  });
});

describe('problems found by validation', () => {
  const issues = (schema: v.GenericSchema, value: unknown) => {
    const r = v.safeParse(schema, value);
    if (r.success) throw new Error('expected a problem');
    return r.issues;
  };

  it('are named by the path to the field, with list positions in brackets, at most five', () => {
    const schema = v.array(v.object({ a: v.object({ list: v.array(v.number()) }) }));
    const bad = Array.from({ length: 7 }, () => ({ a: { list: ['x'] } }));
    const lines = issueLines('routes', issues(schema, bad));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('routes[0].a.list[0]: Invalid type: Expected number');
    expect(lines[4]).toBe('routes[4].a.list[0]: Invalid type: Expected number');
  });

  it('name a field by its name and a list position by its number, however many digits', () => {
    const schema = v.strictObject({ x2: v.optional(v.array(v.string())) });
    expect(issueLines('r', issues(schema, { x2: Array.from({ length: 12 }, (_, i) => (i === 11 ? 7 : 's')) }))).toEqual(
      ['r[x2][11]: Invalid type: Expected string'],
    );
    expect(issueLines('r', issues(schema, { '2x': 1 }))).toEqual(['r[2x]: unknown field']);
    expect(issueLines('r', issues(v.object({ a: v.strictObject({}) }), { a: { '2x': 1 } }))).toEqual([
      'r[a].2x: unknown field',
    ]);
    expect(issueLines('r', issues(v.object({ a: v.strictObject({}) }), { a: { x2: 1 } }))).toEqual([
      'r[a].x2: unknown field',
    ]);
  });

  it('about the whole value are named by the prefix alone', () => {
    expect(issueLines('silences', issues(v.array(v.string()), 'no'))).toEqual([
      'silences: Invalid type: Expected Array',
    ]);
  });

  it('say plainly what is unknown or missing, never the value received', () => {
    const schema = v.strictObject({ name: v.string(), kind: v.picklist(['a', 'b']) });
    expect(issueLines('x', issues(schema, { name: 'n', kind: 'a', extra: 'https://secret.example/hook' }))).toEqual([
      'x[extra]: unknown field',
    ]);
    expect(issueLines('x', issues(schema, { kind: 'a' }))).toEqual(['x[name]: is required']);
    // A value that is there but wrong is not called missing, even where one exact value is expected.
    expect(issueLines('x', issues(v.object({ kind: v.literal('a') }), { kind: 'b' }))).toEqual([
      'x[kind]: Invalid type: Expected "a"',
    ]);
    expect(issueLines('x', issues(v.object({ name: v.string() }), { name: undefined }))).toEqual([
      'x[name]: Invalid type: Expected string',
    ]);
    const lines = issueLines('x', issues(schema, { name: 'n', kind: 'https://secret.example/hook\nmore' }));
    expect(lines).toEqual(['x[kind]: Invalid type: Expected ("a" | "b")']);
  });
});

describe('time zones', () => {
  it('a known zone is kept; another is refused by name', () => {
    const problems: string[] = [];
    expect(checkedZone('ALERT_TIMEZONE', 'Asia/Shanghai', problems)).toBe('Asia/Shanghai');
    expect(checkedZone('ALERT_TIMEZONE', 'Mars/Olympus', problems)).toBeUndefined();
    expect(problems).toEqual(['ALERT_TIMEZONE "Mars/Olympus" is not an IANA time zone (e.g. Asia/Shanghai)']);
  });
});

describe("a route's escalation", () => {
  const hook = { name: 'team', slack: { webhook: SLACK } };
  it('defaults to 50 failures or 30 minutes, and keeps the default of a threshold left out', () => {
    expect(parse([hook]).routes[0]!.escalate).toEqual({ failures: 50, forMinutes: 30 });
    expect(parse([{ ...hook, escalate: { failures: 0 } }]).routes[0]!.escalate).toEqual({
      failures: 0,
      forMinutes: 30,
    });
    expect(parse([{ ...hook, escalate: { failures: 200, forMinutes: 0 } }]).routes[0]!.escalate).toEqual({
      failures: 200,
      forMinutes: 0,
    });
  });

  it('is refused when a threshold is not a whole number from 0, or a key is unknown', () => {
    expect(parse([{ ...hook, escalate: { failures: -1 } }]).problems).toEqual([
      'routes[0].escalate.failures: escalate.failures must be 0 (off) or more',
    ]);
    expect(parse([{ ...hook, escalate: { forMinutes: 2.5 } }]).problems).toEqual([
      'routes[0].escalate.forMinutes: escalate.forMinutes must be a whole number',
    ]);
    expect(parse([{ ...hook, escalate: { forMinutes: '30' } }]).problems).toEqual([
      'routes[0].escalate.forMinutes: escalate.forMinutes must be a number',
    ]);
    expect(parse([{ ...hook, escalate: { minutes: 30 } }]).problems).toEqual([
      'routes[0].escalate.minutes: unknown field',
    ]);
  });
});
