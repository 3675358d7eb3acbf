import * as v from 'valibot';
import { defaultTimeZone } from '../lib/time.js';
import type { Lang } from '../model/lang.js';
import { DEFAULT_ESCALATION, type Escalation } from '../model/escalation.js';
import { DEFAULT_ROUTE, WEEKDAYS, type Route, type Weekday } from '../model/route.js';
import { matcherSchema } from './silences.js';
import { canonicalZone } from './zones.js';
import {
  mentionIds,
  parseDingTalkSecret,
  parseDingTalkWebhook,
  parseSlackWebhook,
  type WebhookPolicy,
} from './webhooks.js';

/** More routes than this is a configuration mistake rather than a routing tree. */
export const MAX_ROUTES = 50;
export const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

const ids = v.optional(v.array(v.string()), []);
/** A threshold of `escalate`: a whole number, 0 turning it off. */
const threshold = (name: string) =>
  v.optional(
    v.pipe(
      v.number(`escalate.${name} must be a number`),
      v.integer(`escalate.${name} must be a whole number`),
      v.minValue(0, `escalate.${name} must be 0 (off) or more`),
    ),
  );
const routeSchema = v.strictObject({
  name: v.pipe(
    v.string('name must be a string'),
    v.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'name must be 1-32 letters, digits, - or _'),
  ),
  match: v.optional(matcherSchema),
  dingtalk: v.optional(
    v.strictObject({
      webhook: v.string('dingtalk.webhook must be a string'),
      secret: v.optional(v.string()),
      atMobiles: ids,
      atUserIds: ids,
    }),
  ),
  slack: v.optional(v.strictObject({ webhook: v.string('slack.webhook must be a string'), mentions: ids })),
  lang: v.optional(v.picklist(['zh', 'en'], 'lang must be zh or en')),
  timezone: v.optional(v.string()),
  digest: v.optional(
    v.strictObject({
      at: v.pipe(v.string(), v.regex(HHMM, 'digest.at must be a local time like 09:00')),
      weekday: v.optional(v.picklist(WEEKDAYS, 'digest.weekday must be one of sun mon tue wed thu fri sat')),
    }),
  ),
  escalate: v.optional(v.strictObject({ failures: threshold('failures'), forMinutes: threshold('forMinutes') })),
});
const routesSchema = v.pipe(
  v.array(routeSchema, 'routes must be a JSON array of routes'),
  v.maxLength(MAX_ROUTES, `at most ${MAX_ROUTES} routes`),
);

/** What a route leaves out comes from the top-level settings. */
export interface RouteDefaults {
  lang: Lang;
  /** ALERT_TIMEZONE when set; otherwise each route's language decides. */
  timeZone?: string;
  policy: WebhookPolicy;
}

type RouteInput = v.InferOutput<typeof routeSchema>;

/** A route's channels, parsed, with a problem for a route that has neither or an empty webhook. */
function routeChannels(
  at: string,
  x: RouteInput,
  policy: WebhookPolicy,
  problems: string[],
): Pick<Route, 'dingtalk' | 'slack'> {
  if (!x.dingtalk && !x.slack) problems.push(`${at} (${x.name}) has no dingtalk or slack webhook`);
  const dWebhook = parseDingTalkWebhook(`${at}.dingtalk.webhook`, x.dingtalk?.webhook, policy, problems);
  const dSecret = parseDingTalkSecret(`${at}.dingtalk.secret`, x.dingtalk?.secret, problems);
  const sWebhook = parseSlackWebhook(`${at}.slack.webhook`, x.slack?.webhook, policy, problems);
  if (x.dingtalk && !x.dingtalk.webhook.trim()) problems.push(`${at}.dingtalk.webhook is empty`);
  if (x.slack && !x.slack.webhook.trim()) problems.push(`${at}.slack.webhook is empty`);
  return {
    dingtalk: dWebhook ? { webhook: dWebhook, secret: dSecret } : undefined,
    slack: sWebhook ? { webhook: sWebhook } : undefined,
  };
}

function routeMentions(at: string, x: RouteInput, problems: string[]): Route['mentions'] {
  const d = x.dingtalk;
  return {
    dingtalkMobiles: mentionIds(`${at}.dingtalk.atMobiles`, d?.atMobiles ?? [], 'dingtalkMobiles', problems),
    dingtalkUserIds: mentionIds(`${at}.dingtalk.atUserIds`, d?.atUserIds ?? [], 'dingtalkUserIds', problems),
    slack: mentionIds(`${at}.slack.mentions`, x.slack?.mentions ?? [], 'slack', problems),
  };
}

/** A route's escalation: a threshold left out keeps its default, so `{ "failures": 0 }` turns off only the count. */
const escalationOf = (e: RouteInput['escalate']): Escalation => ({
  failures: e?.failures ?? DEFAULT_ESCALATION.failures,
  forMinutes: e?.forMinutes ?? DEFAULT_ESCALATION.forMinutes,
});

/** One route, or undefined with its problems pushed; `seen` holds the names of the routes before it. */
function routeOf(
  x: RouteInput,
  where: { n: number; last: boolean; seen: Set<string> },
  defaults: RouteDefaults,
  problems: string[],
): Route | undefined {
  const at = `routes[${where.n}]`;
  const before = problems.length;
  if (x.name === DEFAULT_ROUTE)
    problems.push(`${at}.name "${DEFAULT_ROUTE}" is reserved for the route DINGTALK_WEBHOOK and SLACK_WEBHOOK make`);
  else if (where.seen.has(x.name)) problems.push(`${at}.name "${x.name}" is used by an earlier route`);
  where.seen.add(x.name);
  const channels = routeChannels(at, x, defaults.policy, problems);
  const mentions = routeMentions(at, x, problems);
  if (x.timezone !== undefined) checkedZone(`${at}.timezone`, x.timezone, problems);
  if (isCatchAll(x.match) && !where.last)
    problems.push(`${at} (${x.name}) matches every alert, so the routes after it are never used: move it to the end`);
  if (problems.length > before) return undefined;
  const lang = x.lang ?? defaults.lang;
  const timeZone = x.timezone ?? defaults.timeZone ?? defaultTimeZone(lang);
  const weekday = x.digest?.weekday as Weekday | undefined;
  return {
    name: x.name,
    match: isCatchAll(x.match) ? undefined : x.match,
    ...channels,
    mentions,
    lang,
    timeZone,
    digest: x.digest ? { at: x.digest.at, weekday, timezone: timeZone } : undefined,
    escalate: escalationOf(x.escalate),
  };
}

/**
 * Validates the routes (parsed JSON) and builds them in order. Every problem is pushed to `problems`, named by the
 * route's position and field (`routes[1].slack.webhook ...`), never with a webhook or secret in it.
 */
export function parseRoutes(raw: unknown, defaults: RouteDefaults, problems: string[]): Route[] {
  const r = v.safeParse(routesSchema, raw);
  if (!r.success) {
    problems.push(...issueLines('routes', r.issues));
    return [];
  }
  const seen = new Set<string>();
  return r.output.flatMap((x, n) => routeOf(x, { n, last: n === r.output.length - 1, seen }, defaults, problems) ?? []);
}

/** `tz` when it is a canonical IANA time zone; else undefined, with a problem naming the zone it probably means. */
export function checkedZone(name: string, tz: string, problems: string[]): string | undefined {
  return canonicalZone(name, tz, problems);
}

/** Valibot issues as "routes[1].slack.webhook: message" lines, at most five. */
export function issueLines(prefix: string, issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.slice(0, 5).map((i) => {
    const [first, ...rest] = (v.getDotPath(i) ?? '').split('.').filter(Boolean);
    const path =
      first === undefined
        ? prefix
        : `${prefix}[${first}]${rest.map((x) => (/^\d+$/.test(x) ? `[${x}]` : `.${x}`)).join('')}`;
    return `${path}: ${plainMessage(i)}`;
  });
}

/**
 * Valibot words key problems as schema theory ("Expected never but received ..."); say it plainly. Its default
 * messages also quote the value received, which may be a webhook put in the wrong place: never repeat it.
 */
function plainMessage(i: v.BaseIssue<unknown>): string {
  if (i.type === 'strict_object' && i.expected === 'never') return 'unknown field';
  if (i.kind === 'schema' && i.received === 'undefined' && i.expected?.startsWith('"')) return 'is required';
  return i.message.replace(/ but received .*$/s, '');
}

const isCatchAll = (m: v.InferOutput<typeof matcherSchema> | undefined) =>
  m === undefined || Object.values(m).every((x) => x === undefined);
