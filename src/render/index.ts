import { groupSeverity, type Escalation } from '../model/escalation.js';
import { SEVERITY_RANK } from '../model/issue.js';
import type { ChannelName, Lang } from '../model/lang.js';
import type { Mentions } from '../model/route.js';
import type { MessageContent } from './content.js';
import { dingtalkBytes, dingtalkInert, DINGTALK_MAX_BYTES, renderDingTalk, type DingTalkMarkdown } from './dingtalk.js';
import { fitDetail } from './fit.js';
import { layout } from './layout.js';
import { localeOf, type Locale } from './locale.js';
import { renderSlack, slackCode, slackProblems, SLACK_BLOCKS_MAX_CHARS, type SlackMessage } from './slack.js';
import { wordsFor } from './words.js';

export type { Locale } from './locale.js';

/** Each shrink step renders to this fraction of the previous budget. */
export const SHRINK_FACTOR = 0.5;
/** At this shrink (and above) the smallest rendering there is comes back. */
export const MAX_SHRINK = 6;

export interface RenderOptions {
  /** Who to @mention when the message is severe (see isSevere); nobody when absent. */
  mentions?: Mentions;
  /** When a failure group is high whatever its cause (the route's `escalate`); DEFAULT_ESCALATION when absent. */
  escalate?: Escalation;
  /**
   * 0 renders to the platform's budget. n > 0 renders to SHRINK_FACTOR^n of it: what to send after the platform
   * refused the previous rendering as too large (MessageTooLargeError), stepping n up until it is accepted.
   */
  shrink?: number;
}

/**
 * Whether a message calls people in: it holds a failure group that is high by its cause, its size or how long it
 * has been failing (`esc`, the route's escalation), or an instance alerting cannot see.
 */
export function isSevere(content: MessageContent, esc?: Escalation): boolean {
  return (
    content.notices.some((n) => n.kind === 'blind') ||
    content.groups.some((g) => groupSeverity(g, esc).severity === 'high')
  );
}

/** The content with its groups most severe first once scale and duration count, in their order otherwise. */
function escalated(content: MessageContent, esc?: Escalation): MessageContent {
  const rank = new Map(content.groups.map((g) => [g, SEVERITY_RANK[groupSeverity(g, esc).severity]]));
  // Array sort is stable: groups of one severity keep the content's order (largest first).
  return { ...content, groups: [...content.groups].sort((x, y) => rank.get(x)! - rank.get(y)!) };
}

/**
 * The platform payload for `content` on `channel`, in the locale's language and time zone, @mentioning
 * `opts.mentions` when the message is severe (by cause, or by scale and duration under `opts.escalate`). The payload
 * fits the platform's limits by construction: detail is reduced (fewer examples, then no fix steps or commands, then
 * groups on one line, then counts only) until it does, and whatever is not shown is counted ("…and N more").
 */
export function renderFor(
  channel: 'dingtalk',
  content: MessageContent,
  locale: Lang | Locale,
  opts?: RenderOptions,
): DingTalkMarkdown;
export function renderFor(
  channel: 'slack',
  content: MessageContent,
  locale: Lang | Locale,
  opts?: RenderOptions,
): SlackMessage;
export function renderFor(
  channel: ChannelName,
  content: MessageContent,
  locale: Lang | Locale,
  opts?: RenderOptions,
): DingTalkMarkdown | SlackMessage;
export function renderFor(
  channel: ChannelName,
  content: MessageContent,
  locale: Lang | Locale,
  opts: RenderOptions = {},
): DingTalkMarkdown | SlackMessage {
  const loc = localeOf(locale);
  const { mentions, escalate } = opts;
  const c = escalated(content, escalate);
  const severe = mentions !== undefined && isSevere(c, escalate);
  const scale = SHRINK_FACTOR ** Math.min(MAX_SHRINK, Math.max(0, Math.floor(opts.shrink ?? 0)));
  if (channel === 'dingtalk') {
    const at =
      severe && mentions.dingtalkMobiles.length + mentions.dingtalkUserIds.length > 0
        ? { mobiles: mentions.dingtalkMobiles, userIds: mentions.dingtalkUserIds }
        : undefined;
    const budget = DINGTALK_MAX_BYTES * scale;
    return fitDetail(
      c,
      (d) => renderDingTalk(layout(c, loc, d, escalate), loc, at),
      (m) => dingtalkBytes(m) <= budget,
    );
  }
  const who = severe ? mentions.slack : undefined;
  const budget = SLACK_BLOCKS_MAX_CHARS * scale;
  return fitDetail(
    c,
    (d) => renderSlack(layout(c, loc, d, escalate), loc, who),
    (m) => slackProblems(m, budget).length === 0,
  );
}

/**
 * The plain one-line message that stands in for an alert no rendering could deliver: it names the alert (`what`,
 * its instance and task) and the platform's refusal (`why`, a code), without markup or anything else of the alert.
 */
export function renderQuarantined(channel: ChannelName, what: string, why: string, lang: Lang): unknown {
  if (channel === 'dingtalk') {
    const text = wordsFor(lang).quarantined(dingtalkInert(what), dingtalkInert(why));
    return { msgtype: 'text', text: { content: text } };
  }
  return { text: wordsFor(lang).quarantined(slackCode(what), slackCode(why)) };
}

/** A short message proving a webhook works, naming the instances it will hear about. */
export function renderTestMessage(channel: ChannelName, instances: readonly string[], lang: Lang): unknown {
  const t = wordsFor(lang).test;
  if (channel === 'dingtalk') {
    return {
      msgtype: 'markdown',
      markdown: {
        title: t.title,
        text: `#### ✅ ${t.title}\n\n${t.body} ${instances.map(dingtalkInert).join(wordsFor(lang).list)}`,
      },
    };
  }
  return {
    text: t.title,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*✅ ${t.title}*\n${t.body} ${instances.map(slackCode).join(', ')}` },
      },
    ],
  };
}
