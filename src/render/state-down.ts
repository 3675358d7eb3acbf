import type { ChannelName, Lang } from '../model/lang.js';
import type { StateFault } from '../model/state-fault.js';
import { dingtalkInert } from './dingtalk.js';
import { slackCode, slackEscape } from './slack.js';
import { apiText } from './text.js';

/** What the notice says about the state that cannot be reached: where it is, and what the service answered. */
export interface StateDownFacts {
  /** The store, e.g. `Tablestore alertstate/acr_sync_alert` or `the state file /tmp/state.json`. */
  where: string;
  /** The service's code (`OTSAuthFailed`), when it answered one. */
  code?: string;
  /** The service's own message, or our description of what happened (a timeout). */
  message?: string;
  fault: StateFault;
}

/** The longest service message shown; the fix and the rest of the notice are ours and short. */
const MESSAGE_MAX = 300;

interface StateDownWords {
  title: string;
  answered: string;
  effect: string;
  fix: string;
  repeat: string;
  fixes: Record<StateFault, string>;
}

const WORDS: Record<Lang, StateDownWords> = {
  en: {
    title: 'ACR: alerting is down: its state cannot be read or written',
    answered: 'answered',
    effect:
      'No run can announce anything until this is fixed; what fails meanwhile is announced by the first run that ' +
      'reaches the state again.',
    fix: 'Fix:',
    repeat: 'This notice repeats at most once an hour while it lasts.',
    fixes: {
      'network-acl':
        "the instance's network ACL refuses the function's network. Point TABLESTORE_ENDPOINT at the instance's " +
        'internal endpoint (<instance>.<region>.ots-internal.aliyuncs.com), or its VPC endpoint with the function in ' +
        "that VPC, or allow this network type in the instance's Network Management settings.",
      credentials: "the credentials were refused: check the function's role (its STS keys).",
      permission: "grant the function's role the table's ots: actions (policy/ram-policy.json).",
      instance: 'check TABLESTORE_INSTANCE and that TABLESTORE_ENDPOINT names that instance in its region.',
      'table-missing': 'create the table, or check TABLESTORE_TABLE.',
      unavailable: 'the service did not answer; if this lasts, check its status and the endpoint.',
      unknown: "see the service's code and message, and the function's log.",
    },
  },
  zh: {
    title: 'ACR：告警已中断：无法读写状态存储',
    answered: '返回',
    effect: '修复之前，任何一次运行都无法发出告警；期间的失败会在首次重新读到状态的运行中发出。',
    fix: '修复：',
    repeat: '问题持续期间，此通知每小时最多重复一次。',
    fixes: {
      'network-acl':
        '实例的网络访问控制拒绝了函数所在的网络。请把 TABLESTORE_ENDPOINT 改为实例的内网地址' +
        '（<instance>.<region>.ots-internal.aliyuncs.com），或在函数接入该 VPC 后使用 VPC 地址，' +
        '或在实例的“网络管理”中允许此网络类型。',
      credentials: '凭证被拒绝：请检查函数的角色（其 STS 密钥）。',
      permission: '请为函数的角色授予该表的 ots: 操作权限（policy/ram-policy.json）。',
      instance: '请检查 TABLESTORE_INSTANCE，以及 TABLESTORE_ENDPOINT 是否指向该地域的这个实例。',
      'table-missing': '请创建该表，或检查 TABLESTORE_TABLE。',
      unavailable: '服务没有应答；如果持续，请检查服务状态和访问地址。',
      unknown: '请查看服务返回的错误码和信息，以及函数日志。',
    },
  },
};

/** The service's answer as one line: its code and message, capped. */
function answerOf(f: StateDownFacts): string | undefined {
  const message = f.message ? apiText(f.message, MESSAGE_MAX) : undefined;
  const parts = [f.code, message].filter((p): p is string => Boolean(p));
  return parts.length > 0 ? parts.join(': ') : undefined;
}

/**
 * The notice that alerting is down because its state cannot be read or written, for `channel` in `lang`: where the
 * state is, the service's code and message, the fix for its fault, and that the notice repeats at most hourly. The
 * service's words are made inert (no markup, links or mentions); the payload stays far below either platform's limits
 * whatever the message (it is capped).
 */
export function renderStateDown(channel: ChannelName, facts: StateDownFacts, lang: Lang): unknown {
  const w = WORDS[lang];
  const answer = answerOf(facts);
  if (channel === 'dingtalk') {
    const said = answer ? ` ${w.answered} \`${dingtalkInert(answer).replace(/`/g, 'ˋ')}\`` : '';
    const text = [
      `#### ${w.title}`,
      `${dingtalkInert(facts.where)}${said}`,
      w.effect,
      `**${w.fix}** ${w.fixes[facts.fault]}`,
      w.repeat,
    ].join('\n\n');
    return { msgtype: 'markdown', markdown: { title: w.title, text } };
  }
  const said = answer ? ` ${w.answered} ${slackCode(answer)}` : '';
  const lines = [
    `*${slackEscape(w.title)}*`,
    `${slackEscape(facts.where)}${said}`,
    slackEscape(w.effect),
    `*${slackEscape(w.fix)}* ${slackEscape(w.fixes[facts.fault])}`,
    slackEscape(w.repeat),
  ];
  return { text: w.title, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }] };
}
