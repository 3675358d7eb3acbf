import type { ChannelName, Lang } from '../config.js';
import type { Alert } from '../state/checkpoint.js';
import { renderDingTalk } from './dingtalk.js';
import { renderSlack } from './slack.js';

/** The platform payload for `alerts` on `channel`. */
export function renderFor(channel: ChannelName, alerts: readonly Alert[], lang: Lang): unknown {
  return channel === 'dingtalk' ? renderDingTalk(alerts, lang) : renderSlack(alerts, lang);
}
