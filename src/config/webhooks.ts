import { Secret } from '../lib/secret.js';
import type { Sensitive } from '../model/route.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
// The platforms' webhook hosts (DingTalk custom robot docs, mainland and international; Slack incoming webhooks).
const DINGTALK_HOSTS = new Set(['oapi.dingtalk.com', 'oapi.dingtalk.io']);
const SLACK_HOSTS = new Set(['hooks.slack.com']);

/** What a webhook setting may point at: the platform's own hosts, or any host when the operator allows it. */
export interface WebhookPolicy {
  anyHost: boolean;
}

/**
 * Checks a webhook URL without ever echoing it: its path or query is the credential. https is required (plain http
 * only to a loopback address, for local receivers), then `check` gets its say. Problems are named after `name`.
 */
function parseWebhook(
  name: string,
  raw: string | undefined,
  problems: string[],
  check: (u: URL) => string | undefined,
): Secret | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    problems.push(`${name} is not a valid URL`);
    return undefined;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    problems.push(`${name} must use https (plain http is accepted only for 127.0.0.1 or localhost)`);
    return undefined;
  }
  const why = check(url);
  if (why) {
    problems.push(`${name} ${why}`);
    return undefined;
  }
  return new Secret(url.toString());
}

// A webhook URL is a credential the function hands its messages to: by default only the platforms' own hosts.
const hostCheck = (u: URL, policy: WebhookPolicy, allowed: Set<string>, platform: string) =>
  policy.anyHost || LOOPBACK.has(u.hostname) || allowed.has(u.hostname)
    ? undefined
    : `must point at ${platform} (${[...allowed].join(' or ')}); ` +
      'set WEBHOOK_ALLOW_ANY_HOST=true to send through another host';

/** A DingTalk custom-robot webhook, or undefined (with a problem unless it was empty). */
export function parseDingTalkWebhook(
  name: string,
  raw: string | undefined,
  policy: WebhookPolicy,
  problems: string[],
): Secret | undefined {
  return parseWebhook(
    name,
    raw,
    problems,
    (u) =>
      hostCheck(u, policy, DINGTALK_HOSTS, 'DingTalk') ??
      (u.searchParams.get('access_token')
        ? undefined
        : 'must carry the robot access_token parameter (copy the whole URL from the robot settings)'),
  );
}

/** A DingTalk robot signing secret, or undefined (with a problem when it is not one). */
export function parseDingTalkSecret(name: string, raw: string | undefined, problems: string[]): Secret | undefined {
  const s = raw?.trim();
  if (!s) return undefined;
  if (!s.startsWith('SEC')) {
    problems.push(`${name} must be the robot signing secret, which starts with SEC`);
    return undefined;
  }
  return new Secret(s);
}

/** A Slack incoming webhook, or undefined (with a problem unless it was empty). */
export function parseSlackWebhook(
  name: string,
  raw: string | undefined,
  policy: WebhookPolicy,
  problems: string[],
): Secret | undefined {
  return parseWebhook(
    name,
    raw,
    problems,
    (u) =>
      hostCheck(u, policy, SLACK_HOSTS, 'Slack') ??
      (u.pathname.startsWith('/services/')
        ? undefined
        : 'must be a Slack incoming webhook URL (https://hooks.slack.com/services/...)'),
  );
}

/** The DingTalk access_token alone, which also appears in some error texts and must be scrubbed too. */
export function dingtalkToken(webhook: Sensitive): Secret | undefined {
  const token = new URL(webhook.reveal()).searchParams.get('access_token');
  return token ? new Secret(token) : undefined;
}

// Mention ids as the platforms issue them.
const MENTION_FORMATS = {
  dingtalkMobiles: { pattern: /^\+?\d{5,20}$/, what: 'a phone number as registered in DingTalk' },
  dingtalkUserIds: { pattern: /^[A-Za-z0-9_-]{1,64}$/, what: 'a DingTalk userId' },
  slack: { pattern: /^[UWS][A-Z0-9]{2,20}$/, what: 'a Slack user id (U…/W…) or user-group id (S…)' },
} as const;

/** Mention ids of one kind, as given; each that is not such an id adds a problem naming `name` and the entry. */
export function mentionIds(
  name: string,
  items: readonly string[],
  kind: keyof typeof MENTION_FORMATS,
  problems: string[],
): string[] {
  const f = MENTION_FORMATS[kind];
  for (const x of items) if (!f.pattern.test(x)) problems.push(`${name} entry "${x}" must be ${f.what}`);
  return [...items];
}
