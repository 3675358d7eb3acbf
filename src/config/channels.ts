import type { Route, Weekday } from '../model/route.js';
import { jsonSetting } from './json-settings.js';
import { checkedZone, parseRoutes, type RouteDefaults } from './routes.js';
import type { Env, Settings } from './settings.js';
import {
  mentionIds,
  parseDingTalkSecret,
  parseDingTalkWebhook,
  parseSlackWebhook,
  type WebhookPolicy,
} from './webhooks.js';

/** The default route's channels (DINGTALK_WEBHOOK with DINGTALK_SECRET, SLACK_WEBHOOK), and the host policy. */
export function defaultChannels(
  env: Env,
  problems: string[],
): Pick<Route, 'dingtalk' | 'slack'> & { policy: WebhookPolicy } {
  const policy = { anyHost: env.WEBHOOK_ALLOW_ANY_HOST?.trim().toLowerCase() === 'true' };
  const dingtalkUrl = parseDingTalkWebhook('DINGTALK_WEBHOOK', env.DINGTALK_WEBHOOK, policy, problems);
  const secret = parseDingTalkSecret('DINGTALK_SECRET', env.DINGTALK_SECRET, problems);
  if (env.DINGTALK_SECRET?.trim() && !env.DINGTALK_WEBHOOK?.trim())
    problems.push('DINGTALK_SECRET is set but DINGTALK_WEBHOOK is not');
  const slackUrl = parseSlackWebhook('SLACK_WEBHOOK', env.SLACK_WEBHOOK, policy, problems);
  return {
    policy,
    dingtalk: dingtalkUrl ? { webhook: dingtalkUrl, secret } : undefined,
    slack: slackUrl ? { webhook: slackUrl } : undefined,
  };
}

/** The default route's mentions: DINGTALK_AT_MOBILES, DINGTALK_AT_USER_IDS and SLACK_MENTIONS, comma-separated. */
export function defaultMentions(env: Env, problems: string[]): Route['mentions'] {
  const list = (name: string, kind: Parameters<typeof mentionIds>[2]) =>
    mentionIds(
      name,
      (env[name] ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      kind,
      problems,
    );
  return {
    dingtalkMobiles: list('DINGTALK_AT_MOBILES', 'dingtalkMobiles'),
    dingtalkUserIds: list('DINGTALK_AT_USER_IDS', 'dingtalkUserIds'),
    slack: list('SLACK_MENTIONS', 'slack'),
  };
}

/**
 * The ROUTES (or ROUTES_FILE) the operator wrote, in order. Unless `requireChannel` is false, an alert must have
 * somewhere to go: the default route needs a channel when there are no routes, or when none of them is a catch-all.
 */
export function userRoutes(env: Env, defaults: RouteDefaults, problems: string[], requireChannel: boolean): Route[] {
  const raw = jsonSetting(env, 'ROUTES', problems);
  const before = problems.length;
  const routes = raw === undefined ? [] : parseRoutes(raw, defaults, problems);
  const defaultHasChannel = Boolean(env.DINGTALK_WEBHOOK?.trim() || env.SLACK_WEBHOOK?.trim());
  if (!requireChannel || defaultHasChannel || problems.length !== before) return routes;
  if (routes.length === 0) problems.push('no channel configured: set DINGTALK_WEBHOOK and/or SLACK_WEBHOOK, or ROUTES');
  else if (!routes.some((r) => r.match === undefined)) {
    problems.push(
      'alerts that match no route have nowhere to go: set DINGTALK_WEBHOOK and/or SLACK_WEBHOOK for the default ' +
        'route, or end ROUTES with a route without "match"',
    );
  }
  return routes;
}

/** The default route's digest (DIGEST_AT, DIGEST_TIMEZONE, DIGEST_WEEKDAY), in `zone` unless DIGEST_TIMEZONE is set. */
export function defaultDigest(p: Settings | undefined, zone: string, problems: string[]): Route['digest'] {
  if (p?.DIGEST_TIMEZONE) checkedZone('DIGEST_TIMEZONE', p.DIGEST_TIMEZONE, problems);
  if ((p?.DIGEST_TIMEZONE || p?.DIGEST_WEEKDAY) && !p?.DIGEST_AT)
    problems.push('DIGEST_TIMEZONE and DIGEST_WEEKDAY need DIGEST_AT');
  if (!p?.DIGEST_AT) return undefined;
  return { at: p.DIGEST_AT, timezone: p.DIGEST_TIMEZONE ?? zone, weekday: p.DIGEST_WEEKDAY as Weekday | undefined };
}
