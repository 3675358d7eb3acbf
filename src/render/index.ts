import { classify } from '../detect/classify.js';
import type { ChannelName, Lang } from '../model/lang.js';
import type { Mentions } from '../model/route.js';
import type { Locale } from './common.js';
import type { MessageContent } from './content.js';
import { dingtalkInert, renderDingTalk } from './dingtalk.js';
import { renderSlack, slackCode } from './slack.js';

/** Whether a message calls people in: it holds a high-severity failure, or an instance alerting cannot see. */
export function isSevere(content: MessageContent): boolean {
  return content.notices.some((n) => n.kind === 'blind') || content.groups.some((g) => classify(g.cause).severity === 'high');
}

/**
 * The platform payload for `content` on `channel`, in the locale's language and time zone, @mentioning `mentions` when
 * the message is severe.
 */
export function renderFor(channel: ChannelName, content: MessageContent, locale: Lang | Locale, mentions?: Mentions): unknown {
  const severe = mentions !== undefined && isSevere(content);
  if (channel === 'dingtalk') {
    const m = renderDingTalk(content, locale);
    if (!severe || mentions.dingtalkMobiles.length + mentions.dingtalkUserIds.length === 0) return m;
    // DingTalk highlights a mobile mention only when "@<mobile>" also appears in the text.
    const tags = mentions.dingtalkMobiles.map((x) => `@${x}`).join(' ');
    return { ...m, markdown: { ...m.markdown, text: tags ? `${m.markdown.text}\n\n${tags}` : m.markdown.text }, at: { atMobiles: mentions.dingtalkMobiles, atUserIds: mentions.dingtalkUserIds, isAtAll: false } };
  }
  const m = renderSlack(content, locale);
  if (!severe || mentions.slack.length === 0) return m;
  const who = mentions.slack.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`)).join(' ');
  return { ...m, blocks: [m.blocks[0]!, { type: 'section', text: { type: 'mrkdwn', text: who } }, ...m.blocks.slice(1)] };
}

const TEST_TEXT = {
  en: { title: 'ACR sync alert: test message', body: 'This channel will receive acr-sync-alert messages about image syncs of' },
  zh: { title: 'ACR 同步告警:测试消息', body: '此频道将接收以下实例的 acr-sync-alert 镜像同步消息:' },
} as const;

/** A short message proving a webhook works, naming the instances it will hear about. */
export function renderTestMessage(channel: ChannelName, instances: readonly string[], lang: Lang): unknown {
  const t = TEST_TEXT[lang];
  if (channel === 'dingtalk') {
    return { msgtype: 'markdown', markdown: { title: t.title, text: `#### ✅ ${t.title}\n\n${t.body} ${instances.map(dingtalkInert).join(', ')}` } };
  }
  return { text: t.title, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*✅ ${t.title}*\n${t.body} ${instances.map(slackCode).join(', ')}` } }] };
}
