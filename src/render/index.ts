import type { ChannelName, Lang } from '../config.js';
import type { Alert } from '../state/checkpoint.js';
import { dingtalkInert, renderDingTalk } from './dingtalk.js';
import { renderSlack, slackCode } from './slack.js';

/** The platform payload for `alerts` on `channel`. */
export function renderFor(channel: ChannelName, alerts: readonly Alert[], lang: Lang): unknown {
  return channel === 'dingtalk' ? renderDingTalk(alerts, lang) : renderSlack(alerts, lang);
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
