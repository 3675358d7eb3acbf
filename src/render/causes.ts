import type { KnownIssue } from '../model/issue.js';
import type { Lang } from '../model/lang.js';

/**
 * What a message says about each TaskIssue, in each language: a heading, a few words for the banner, why the sync
 * failed and what to do. The decisions about an issue (severity, transient) are in model/issue.ts.
 */
export interface CauseWords {
  /** The heading of a failure group. */
  title: string;
  /** A few words for a banner ("network", "OSS not authorised"). */
  short: string;
  /** Why the sync failed, in a sentence. */
  cause: string;
  /** What to do, step by step. */
  fix: readonly string[];
}

// Each entry keeps both languages side by side, so a change to one is seen next to the other.
type Bilingual = { [K in keyof CauseWords]: Record<Lang, CauseWords[K]> };

// Meanings from the CR OpenAPI 2018-12-01 ListRepoSyncTask/GetRepoSyncTask response model (TaskIssue).
const KNOWN: Record<KnownIssue, Bilingual> = {
  // ACR documents this issue only as "ACR not granted permission to access OSS": it does not say which instance's
  // storage was refused, and a sync reads from the source instance's storage and writes to the target's.
  OSS_POLICY_UNAUTHORIZED: {
    title: { en: 'ACR not authorised to access OSS', zh: 'ACR 无权访问 OSS 存储' },
    short: { en: 'OSS not authorised', zh: 'OSS 未授权' },
    cause: {
      en:
        'ACR was not granted permission to access OSS. ACR does not say which instance: the sync reads ' +
        "from the source instance's storage and writes to the target's, so either may be at fault.",
      zh: 'ACR 未获得访问 OSS 的授权。ACR 未说明是哪个实例：同步从源实例的存储读取、写入目标实例的存储，两者都可能是原因。',
    },
    fix: {
      en: [
        'In the ACR console, open the source instance and the target instance in turn and check ' +
          "each one's storage (OSS) authorisation; re-authorise where prompted.",
        'Where an instance uses your own OSS bucket, make sure the bucket policy does not deny ' +
          'the role ACR uses, and that the role still exists in the RAM console.',
        'Re-run the sync once the authorisation is restored.',
      ],
      zh: [
        '在容器镜像服务控制台依次打开源实例和目标实例，分别检查其存储（OSS）授权状态，按提示重新授权。',
        '如实例使用自定义 OSS Bucket，请确认其 Bucket Policy ' +
          '未拒绝 ACR 使用的角色，并在 RAM 控制台确认该角色仍然存在。',
        '授权恢复后重新触发同步。',
      ],
    },
  },
  TAG_CONFLICT: {
    title: { en: 'Tag already exists and is immutable', zh: '目标镜像版本已存在且不可覆盖' },
    short: { en: 'immutable tag exists', zh: '镜像版本冲突' },
    cause: {
      en:
        'The target repository already has this tag and tag ' +
        'immutability is on, so the synced image cannot overwrite it.',
      zh: '目标镜像仓库已有同名镜像版本（Tag），且开启了“镜像版本不可变”，同步无法覆盖该版本。',
    },
    fix: {
      en: [
        'Publish a new tag instead of re-pushing an existing one (recommended when immutability is intended).',
        'Or, in the ACR console, edit the target repository and turn off ' +
          'tag immutability, or delete the conflicting tag in the target.',
        'Re-run the sync for this tag.',
      ],
      zh: [
        '改用新的镜像版本推送，不要覆盖已有版本（推荐做法，可继续保留镜像版本不可变）。',
        '或在容器镜像服务控制台编辑目标镜像仓库，关闭“镜像版本不可变”；也可删除目标仓库中冲突的镜像版本。',
        '处理后对该版本重新触发同步。',
      ],
    },
  },
  UNSUPPORTED_FORMAT: {
    title: { en: 'Image format not supported for sync', zh: '镜像格式不支持同步' },
    short: { en: 'unsupported format', zh: '镜像格式不支持' },
    cause: {
      en:
        'The manifest or config uses a format the sync does not ' +
        'support (for example Docker schema 1 or a non-image artifact).',
      zh: '同步不支持该镜像的 manifest 或 config 格式（例如 Docker schema 1 或非镜像制品）。',
    },
    fix: {
      en: [
        'Inspect the source manifest (docker manifest inspect or crane manifest) and note its mediaType.',
        'Rebuild and push it as Docker v2 schema 2 or OCI image format; with ' +
          'buildx, --provenance=false --sbom=false avoids attestation manifests.',
        'Push again: an automatic rule syncs the new push, a manual rule must be run again.',
      ],
      zh: [
        '用 docker manifest inspect 或 crane manifest 查看源镜像 manifest 的 mediaType。',
        '以 Docker v2 schema 2 或 OCI 镜像格式重新构建并推送；使用 buildx 时可加 ' +
          '--provenance=false --sbom=false，避免生成构建证明（attestation）manifest。',
        '重新推送：自动触发的规则会同步新推送的镜像，手动触发的规则需再次执行。',
      ],
    },
  },
  INTERNAL_ERROR: {
    title: { en: 'ACR internal error', zh: 'ACR 服务内部错误' },
    short: { en: 'ACR internal error', zh: 'ACR 内部错误' },
    cause: {
      en: 'The sync hit a server-side problem in ACR; it usually succeeds when run again.',
      zh: '同步遇到 ACR 服务端问题，重试通常可以成功。',
    },
    fix: {
      en: [
        "Re-run the sync: the re-run command in this message uses the API call that fits the rule's trigger; " +
          'the ACR console works too.',
        'If the same image keeps failing, open a ticket with the task id.',
      ],
      zh: [
        '重新同步：本消息中的重新同步命令会按同步规则的触发方式选用对应接口，也可在容器镜像服务控制台操作。',
        '同一镜像反复失败时，携带任务 ID 提交工单。',
      ],
    },
  },
  NETWORK_ERROR: {
    title: { en: 'Network unstable during sync', zh: '同步时网络不稳定' },
    short: { en: 'network', zh: '网络不稳定' },
    cause: {
      en:
        'The transfer between the source and target instance was ' +
        'interrupted; common on cross-border or congested links.',
      zh: '源实例与目标实例之间的传输中断，跨境或拥塞链路上较常见。',
    },
    fix: {
      en: [
        'Re-run the sync (the re-run command in this message does it).',
        'When cross-border syncs fail often, turn on cross-border sync acceleration or set up a custom sync ' +
          "link on the instance's Instance Sync page in the ACR console (Premium Edition instances only).",
      ],
      zh: [
        '重新同步（可使用本消息中的重新同步命令）。',
        '跨境同步频繁失败时，可在控制台该实例的“实例同步”' +
          '页面开启跨境同步加速，或配置自定义同步链路（仅高级版实例支持）。',
      ],
    },
  },
  DATA_LENGTH_EXCEEDED: {
    title: { en: 'Manifest or config too large', zh: '镜像 manifest 或 config 过大' },
    short: { en: 'manifest too large', zh: 'manifest 过大' },
    cause: {
      en: 'The image manifest or config exceeds the size the sync accepts.',
      zh: '镜像的 manifest 或 config 超过同步允许的大小。',
    },
    fix: {
      en: [
        'Reduce the manifest: fewer layers (squash or multi-stage builds), fewer platforms in one manifest list.',
        'Reduce the config: fewer labels, environment variables and history entries.',
        'Push the slimmer image under a new tag.',
      ],
      zh: [
        '精简 manifest：减少层数（合并层或多阶段构建），减少多架构镜像包含的平台数。',
        '精简 config：减少标签（LABEL）、环境变量和构建历史。',
        '将精简后的镜像以新的镜像版本推送。',
      ],
    },
  },
};

const UNCLASSIFIED_FIX: Bilingual['fix'] = {
  en: [
    "Look the task up in the instance's sync records in the ACR console for details.",
    'Re-run the sync; if it fails again, open a ticket with the task id.',
  ],
  zh: [
    '在容器镜像服务控制台查看该实例的同步记录，按任务 ID 找到此任务的详情。',
    '重新触发同步；再次失败时携带任务 ID 提交工单。',
  ],
};

// An empty TaskIssue and one this version does not know are both unclassified, but only the first has no reason.
const NO_REASON: Bilingual = {
  title: { en: 'Unclassified sync failure', zh: '未分类的同步失败' },
  short: { en: 'no reason given', zh: '未给出原因' },
  cause: {
    en: 'ACR marked the task as failed without giving a reason (its TaskIssue is empty).',
    zh: 'ACR 将任务标记为失败，但未给出原因（TaskIssue 为空）。',
  },
  fix: UNCLASSIFIED_FIX,
};

const UNKNOWN_REASON: Bilingual = {
  ...NO_REASON,
  short: { en: 'unclassified', zh: '未分类' },
  cause: {
    en: 'ACR gave a reason (the code above) that this version does not know yet.',
    zh: 'ACR 返回了失败原因（见上方错误码），但当前版本尚无法识别该错误码。',
  },
};

const inLang = (b: Bilingual, lang: Lang): CauseWords => ({
  title: b.title[lang],
  short: b.short[lang],
  cause: b.cause[lang],
  fix: b.fix[lang],
});

// Built once: rendering looks the words up for every group of every attempt at fitting a message.
// A Map, not an object: no issue can find a property every object has ("constructor").
function wordsIn(lang: Lang) {
  const known = new Map(Object.entries(KNOWN).map(([issue, b]) => [issue, inLang(b, lang)]));
  return { known, none: inLang(NO_REASON, lang), unknown: inLang(UNKNOWN_REASON, lang) };
}
const WORDS: Record<Lang, ReturnType<typeof wordsIn>> = { en: wordsIn('en'), zh: wordsIn('zh') };

/**
 * The words for `issue` as classify gives it (upper-case, '' when the API gave none) in `lang`. An issue this version
 * does not know gets words that say so; the objects returned are shared, not to be changed.
 */
export function causeWords(issue: string, lang: Lang): CauseWords {
  const w = WORDS[lang];
  return w.known.get(issue) ?? (issue ? w.unknown : w.none);
}
