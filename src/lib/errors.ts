/** Which service an integration error came from. */
export type Service = 'cr' | 'tablestore' | 'dingtalk' | 'slack' | 'fc' | 'state-file';

/**
 * How the pipeline should treat a failure:
 * - `retryable`: transient (throttling, 5xx, timeout, reset); try again within the time budget or next run.
 * - `permanent`: the request itself is wrong or was refused for good; retrying the same thing cannot help.
 * - `config`: an operator must change something (permission, token, signing secret, instance id).
 */
export type ErrorKind = 'retryable' | 'permanent' | 'config';

export interface IntegrationErrorFields {
  service: Service;
  kind: ErrorKind;
  /** The service's own error code (`Throttling.User`, `OTSConditionCheckFail`, `310000`, `ECONNRESET`). */
  code?: string;
  status?: number;
  requestId?: string;
  /** Server-requested wait before the next attempt (Slack `Retry-After`, DingTalk's throttling window). */
  retryAfterMs?: number;
}

/**
 * The one error type adapters throw. Messages never contain a URL, token, key or secret: adapters build them from
 * codes and service messages only.
 */
export class IntegrationError extends Error implements IntegrationErrorFields {
  readonly service: Service;
  readonly kind: ErrorKind;
  readonly code?: string;
  readonly status?: number;
  readonly requestId?: string;
  readonly retryAfterMs?: number;

  constructor(message: string, fields: IntegrationErrorFields) {
    super(message);
    this.name = 'IntegrationError';
    this.service = fields.service;
    this.kind = fields.kind;
    this.code = fields.code;
    this.status = fields.status;
    this.requestId = fields.requestId;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/**
 * The platform refused a message for its size (DingTalk errcode 460101, Slack msg_blocks_too_long or invalid_blocks).
 * Retrying the same payload cannot pass, but a smaller rendering can: a sender that sees this error renders the
 * message again with a higher `shrink` and sends that, instead of pausing the channel.
 */
export class MessageTooLargeError extends IntegrationError {
  /** Size of the refused payload as the platform measures it (DingTalk: body bytes; Slack: characters of blocks). */
  readonly sent?: number;
  constructor(message: string, fields: Omit<IntegrationErrorFields, 'kind'> & { sent?: number }) {
    super(message, { ...fields, kind: 'permanent' });
    this.name = 'MessageTooLargeError';
    this.sent = fields.sent;
  }
}

/**
 * Rows of one write the service refused one by one for a reason other than their condition (OTSServerBusy, …): those
 * rows were not applied, the request's other rows were. Retryable when every refusal is; `keys` names the rows.
 */
export class RowsRefusedError extends IntegrationError {
  readonly keys: readonly string[];
  constructor(what: string, refused: readonly { key: string; error: IntegrationError }[]) {
    const first = refused[0]?.error;
    const worst = refused.find((r) => r.error.kind !== 'retryable')?.error ?? first;
    super(`${what}: ${refused.length} row(s) refused (${first?.code ?? 'unknown'}), the others written`, {
      service: first?.service ?? 'tablestore',
      kind: worst?.kind ?? 'retryable',
      code: first?.code,
      status: first?.status,
      requestId: first?.requestId,
    });
    this.name = 'RowsRefusedError';
    this.keys = refused.map((r) => r.key);
  }
}

/**
 * A chunk of an instance's findings could not be claimed: rows owed for its alerts were still refused after the run's
 * retries, so nothing of it was marked handled (its owed rows this run wrote were removed again). The instance's
 * cursor is not saved past it: the next run reads those tasks again and claims them then.
 */
export class ChunkNotClaimedError extends Error {
  readonly instance: string;
  constructor(instance: string, cause: unknown) {
    super(
      `could not claim what ${instance} found (${describeError(cause)}); nothing of it is marked handled, and the ` +
        'next run reads it again',
    );
    this.name = 'ChunkNotClaimedError';
    this.instance = instance;
  }
}

/**
 * The platform refused a message for what it says, not for its size or the channel (Slack `invalid_payload`,
 * `invalid_attachments`, `no_text`; a DingTalk errcode that names no channel-level cause). The same payload cannot
 * pass and the channel itself works: a sender splits the message to find the alert it cannot take, rather than
 * pausing the channel.
 */
export class ContentRefusedError extends IntegrationError {
  constructor(message: string, fields: Omit<IntegrationErrorFields, 'kind'>) {
    super(message, { ...fields, kind: 'permanent' });
    this.name = 'ContentRefusedError';
  }
}

/** Settings are missing or malformed. Lists every problem at once; never echoes a secret value. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], title = 'Invalid configuration') {
    super(`${title}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * The control row changed since this run read it: another run took the lease or wrote what it owes. This run stops
 * without sending; nothing is to be done, the other run carries on and the next starts from what it wrote.
 */
export class ControlChangedError extends Error {
  /** Where the state is, e.g. `tablestore inst/table/deployment`. */
  readonly where: string;
  constructor(where: string) {
    super(
      `${where}: the control row changed since it was read: another run holds the lease; this run stops without ` +
        'sending and the other carries on',
    );
    this.name = 'ControlChangedError';
    this.where = where;
  }
}

/**
 * The local state file stayed locked by another run for longer than a write waits. Taking the lease, it counts as a
 * lost race like ControlChangedError; otherwise the run stops, and the next one carries on once the lock is gone (a
 * lock whose run died is taken as abandoned after a while).
 */
export class StateFileLockedError extends Error {
  /** The state file. */
  readonly path: string;
  constructor(path: string, staleAfterMs: number) {
    super(
      `the state file ${path} is locked by another run; run again once it ends (a lock older than ` +
        `${Math.round(staleAfterMs / 1000)} s is taken as left by a run that died, and removed)`,
    );
    this.name = 'StateFileLockedError';
    this.path = path;
  }
}

/**
 * The earlier single document changed while this run was upgrading it into rows: a release from before the upgrade is
 * still running against the same state. The upgrade stops, having marked nothing; stop that release (or let it finish),
 * and the next run upgrades again from the document as it then is.
 */
export class UpgradeConflictError extends Error {
  /** Where the earlier single document is. */
  readonly where: string;
  constructor(where: string) {
    super(
      `${where}: the earlier single document changed while it was being upgraded (a release from before the upgrade ` +
        'is still running); stop that release, and the next run upgrades again',
    );
    this.name = 'UpgradeConflictError';
    this.where = where;
  }
}

/** The run's time budget is spent; whatever is left continues on the next run. */
export class BudgetExhaustedError extends Error {
  constructor(what: string) {
    super(`time budget exhausted before ${what}`);
    this.name = 'BudgetExhaustedError';
  }
}

/** A short, secret-free description of any thrown value, for logs and summaries. */
export function describeError(err: unknown): string {
  if (err instanceof IntegrationError) {
    const parts = [err.service, err.kind, err.code, err.status === undefined ? undefined : `HTTP ${err.status}`];
    const tag = parts.filter((p) => p !== undefined && p !== '').join(' ');
    const rid = err.requestId ? ` (request ${err.requestId})` : '';
    return `${err.message} [${tag}]${rid}`;
  }
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
