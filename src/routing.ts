import type { ChannelName, Lang } from './config.js';
import type { DigestSchedule } from './digest.js';
import { aboutTask, matchesAny, matchesTask, type Matcher } from './match.js';
import type { Mentions } from './render/index.js';
import type { Secret } from './secret.js';
import type { Alert } from './state/checkpoint.js';

/** The route built from DINGTALK_WEBHOOK, SLACK_WEBHOOK and the other top-level settings. */
export const DEFAULT_ROUTE = 'default';

/**
 * Where a set of alerts goes and how it reads there: its webhooks, who is @mentioned for severe messages, the language
 * and time zone of its messages, and its own digest.
 */
export interface Route {
  name: string;
  /** Absent on the default route and on a catch-all route: every alert matches. */
  match?: Matcher;
  dingtalk?: { webhook: Secret; secret?: Secret };
  slack?: { webhook: Secret };
  mentions: Mentions;
  lang: Lang;
  timeZone: string;
  digest?: DigestSchedule;
}

/**
 * A delivery target: one channel of one route. Its id is the channel name on the default route ("dingtalk", as
 * checkpoints written before routes had it) and "route/channel" on the others.
 */
export const targetId = (route: string, channel: ChannelName): string => (route === DEFAULT_ROUTE ? channel : `${route}/${channel}`);

/** The channels a route sends to, in a fixed order. */
export function channelsOf(route: Route): ChannelName[] {
  return [...(route.dingtalk ? (['dingtalk'] as const) : []), ...(route.slack ? (['slack'] as const) : [])];
}

/** Whether a route has a channel to send to (the default route has none when only routes are configured). */
export const canSend = (route: Route): boolean => route.dingtalk !== undefined || route.slack !== undefined;

export const targetsOf = (route: Route): string[] => channelsOf(route).map((c) => targetId(route.name, c));

/**
 * The routes an alert goes to. `routes` is in order with the default route last. An alert about a sync task goes to
 * the first route that matches it and can send; a notice that alerting is blind (or sees again) for an instance goes
 * to every route that could receive alerts from that instance, since each of them is missing its failures; a digest
 * belongs to the route it was built for. Pure; the returned arrays are shared, not to be changed.
 */
export function router(routes: readonly Route[]): (alert: Alert) => readonly Route[] {
  // A burst routes thousands of alerts: one array per route, shared by every alert that goes there.
  const sending = routes.filter(canSend).map((r) => ({ route: r, only: [r] as const }));
  const none: readonly Route[] = [];
  return (alert) => {
    if (alert.kind === 'digest') return sending.find((s) => s.route.name === (alert.route ?? DEFAULT_ROUTE))?.only ?? none;
    if (!aboutTask(alert)) return sending.filter((s) => matchesAny(alert.instance, s.route.match?.instance)).map((s) => s.route);
    return sending.find((s) => s.route.match === undefined || matchesTask(s.route.match, alert))?.only ?? none;
  };
}

