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

/** Settings are missing or malformed. Lists every problem at once; never echoes a secret value. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], title = 'Invalid configuration') {
    super(`${title}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Another writer changed the checkpoint since we read it; our run must stop without sending. */
export class CheckpointConflictError extends Error {
  constructor(message = 'the checkpoint was changed by another run') {
    super(message);
    this.name = 'CheckpointConflictError';
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
