import type { Escalation } from './escalation.js';
import type { ChannelName, Lang } from './lang.js';

/** The route built from DINGTALK_WEBHOOK, SLACK_WEBHOOK and the other top-level settings. */
export const DEFAULT_ROUTE = 'default';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When a digest goes out: a local time, daily or on one weekday, in a time zone. */
export interface DigestSchedule {
  /** "HH:MM" local time. */
  at: string;
  timezone: string;
  /** Weekly on this day; daily when absent. */
  weekday?: Weekday;
}

/**
 * A value that must never be printed (a webhook URL, a signing secret). Structural, so that this leaf names it
 * without importing the class that implements it.
 */
export interface Sensitive {
  reveal(): string;
}

/** Who a route @mentions when a message is severe. */
export interface Mentions {
  dingtalkMobiles: string[];
  dingtalkUserIds: string[];
  slack: string[];
}

/**
 * The fields a silence or a route matches on, each a list of patterns (`*` is a wildcard, case is ignored); every
 * field given must match, and a field left out matches anything.
 */
export interface Matcher {
  /** `regionId:instanceId` of the source instance. */
  instance?: string[];
  namespace?: string[];
  repo?: string[];
  tag?: string[];
  /** Sync rule id or name. */
  rule?: string[];
  /** TaskIssue (e.g. NETWORK_ERROR), "UNCLASSIFIED", "recovered" or "stuck". */
  cause?: string[];
}

/** Every field a matcher has, in the order they are shown. */
export const MATCHER_FIELDS = [
  'instance',
  'namespace',
  'repo',
  'tag',
  'rule',
  'cause',
] as const satisfies readonly (keyof Matcher)[];

/** A deployed function, as Function Compute names it to itself (FC_FUNCTION_NAME, FC_REGION). */
export interface FunctionRef {
  name: string;
  region: string;
}

/**
 * Where a set of alerts goes and how it reads there: its webhooks, who is @mentioned for severe messages and when a
 * failure group's scale makes it severe, the language and time zone of its messages, and its own digest.
 */
export interface Route {
  name: string;
  /** Absent on the default route and on a catch-all route: every alert matches. */
  match?: Matcher;
  dingtalk?: { webhook: Sensitive; secret?: Sensitive };
  slack?: { webhook: Sensitive };
  mentions: Mentions;
  lang: Lang;
  timeZone: string;
  digest?: DigestSchedule;
  /** The function that sends this route's messages, when known: commands in them name it, to act where pasted. */
  deployment?: FunctionRef;
  /** When a failure group calls people in whatever its cause (model/escalation.ts); DEFAULT_ESCALATION when absent. */
  escalate?: Escalation;
}

/**
 * A delivery target: one channel of one route. Its id is the channel name on the default route ("dingtalk", as
 * state written before routes had it) and "route/channel" on the others.
 */
export const targetId = (route: string, channel: ChannelName): string =>
  route === DEFAULT_ROUTE ? channel : `${route}/${channel}`;

/** The channels a route sends to, in a fixed order. */
export function channelsOf(route: Route): ChannelName[] {
  return [...(route.dingtalk ? (['dingtalk'] as const) : []), ...(route.slack ? (['slack'] as const) : [])];
}

/** Whether a route has a channel to send to (the default route has none when only routes are configured). */
export const canSend = (route: Route): boolean => route.dingtalk !== undefined || route.slack !== undefined;

export const targetsOf = (route: Route): string[] => channelsOf(route).map((c) => targetId(route.name, c));
