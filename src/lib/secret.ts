import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never be printed: webhook URLs (their path or query is the credential), signing secrets,
 * access keys, STS tokens. Stringifying, JSON-encoding or inspecting it yields `[redacted]`; only `reveal()` gives
 * the value, and only adapters call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

/** Anything holding a secret value: a `Secret`, or a structural stand-in for one. */
export interface Revealable {
  reveal(): string;
}

/**
 * Replaces every occurrence of the given secret values (and their URL-encoded forms) in `text`.
 * Defence in depth for messages that come from third-party libraries.
 */
export function scrub(text: string, secrets: readonly Revealable[]): string {
  let out = text;
  for (const s of secrets) {
    const raw = s.reveal();
    if (raw.length < 4) continue;
    for (const form of new Set([raw, encodeURIComponent(raw)])) {
      out = out.split(form).join(REDACTED);
    }
  }
  return out;
}

/** Cloud credentials: the invocation's STS keys in Function Compute, or the environment's locally. */
export interface Credentials {
  accessKeyId: Secret;
  accessKeySecret: Secret;
  securityToken?: Secret;
}
