/** A silence from the command line's options: checked as a configured one is, with an end it always has. */
import { UsageError } from './usage.js';
import { randomUUID } from 'node:crypto';
import parseDuration from 'parse-duration';
import * as v from 'valibot';
import { silenceSchema } from '../config/silences.js';
import { MATCHER_FIELDS } from '../model/route.js';
import type { StoredSilence } from '../model/silence.js';

// A silence row stays small whatever is typed: it is read by every run that has something to mute.
const MAX_PATTERNS = 20;
const MAX_PATTERN = 200;
const MAX_COMMENT = 500;
const MIN_DURATION_MS = 60_000;

type Values = Record<string, string | string[] | undefined>;
type Matchers = Partial<Record<(typeof MATCHER_FIELDS)[number], string[]>>;

/** The matchers given (--instance, --rule, ...), each a list of patterns; at least one, and not all `*`. */
function matchersFrom(values: Values, problems: string[]): Matchers {
  const matchers: Matchers = {};
  for (const m of MATCHER_FIELDS) {
    const list = values[m] as string[] | undefined;
    if (!list || list.length === 0) continue;
    if (list.length > MAX_PATTERNS) problems.push(`--${m} is given ${list.length} times; at most ${MAX_PATTERNS}`);
    for (const p of list)
      if (p.trim() === '' || p.length > MAX_PATTERN)
        problems.push(`--${m} must be a pattern of 1 to ${MAX_PATTERN} characters`);
    matchers[m] = list.map((p) => p.trim());
  }
  if (Object.keys(matchers).length === 0)
    problems.push(
      `give at least one of ${MATCHER_FIELDS.map((m) => `--${m}`).join(', ')}: ` +
        'a silence that matches everything would mute every alert',
    );
  else if (Object.values(matchers).every((l) => l.every((p) => /^\*+$/.test(p)))) {
    problems.push('every matcher given is *: a silence that matches everything would mute every alert');
  }
  return matchers;
}

/** The --comment, trimmed: required, and at most MAX_COMMENT characters. */
function commentFrom(values: Values, problems: string[]): string {
  const comment = typeof values.comment === 'string' ? values.comment.trim() : '';
  if (!comment) problems.push('--comment is required: say why, it is shown in digests next to the silence');
  else if (comment.length > MAX_COMMENT)
    problems.push(`--comment is ${comment.length} characters; at most ${MAX_COMMENT}`);
  return comment;
}

/** When a silence given --for a duration ends; undefined (with a problem) unless at least a minute with a unit. */
function endAfter(forValue: string, now: number, problems: string[]): number | undefined {
  // A bare number would be milliseconds to the parser: a unit is required.
  const ms = /[a-z]/i.test(forValue) ? parseDuration(forValue) : null;
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < MIN_DURATION_MS) {
    problems.push(`--for "${forValue}" is not a duration of at least a minute, e.g. 90m, 2h, 3d, 1h30m`);
    return undefined;
  }
  return now + ms;
}

/** When a silence given --until ends; undefined (with a problem) unless an ISO 8601 time with a zone, still ahead. */
function endAt(untilValue: string, now: number, problems: string[]): number | undefined {
  const r = v.safeParse(v.pipe(v.string(), v.isoTimestamp()), untilValue);
  const t = Date.parse(untilValue);
  if (!r.success || Number.isNaN(t))
    problems.push(`--until "${untilValue}" must be an ISO 8601 time with a zone, e.g. 2026-12-24T08:00:00+08:00`);
  else if (t <= now) problems.push(`--until ${untilValue} has already passed`);
  else return t;
  return undefined;
}

/** When the silence ends: --for or --until, exactly one of them. */
function endFrom(values: Values, now: number, problems: string[]): number | undefined {
  const forValue = values.for as string | undefined;
  const untilValue = values.until as string | undefined;
  if (forValue !== undefined && untilValue !== undefined) problems.push('give --for or --until, not both');
  else if (forValue !== undefined) return endAfter(forValue, now, problems);
  else if (untilValue !== undefined) return endAt(untilValue, now, problems);
  else problems.push('give --for (e.g. 2h) or --until (an ISO 8601 time): a silence from the command line always ends');
  return undefined;
}

/** The silence the options describe, checked as a configured one is, plus what a stored one needs; or every problem. */
export function silenceFrom(values: Values, now: number, author: string): StoredSilence {
  const problems: string[] = [];
  const matchers = matchersFrom(values, problems);
  const comment = commentFrom(values, problems);
  const ends = endFrom(values, now, problems);
  const silence: StoredSilence = {
    id: randomUUID(),
    ...matchers,
    comment,
    expires: new Date(ends ?? now).toISOString(),
    createdBy: author,
    createdAt: new Date(now).toISOString(),
  };
  // The same checks as SILENCES in the configuration, so what one accepts the other does.
  const { id: _id, createdBy: _by, createdAt: _at, ...asConfigured } = silence;
  const checked = v.safeParse(silenceSchema, asConfigured);
  if (!checked.success) for (const i of checked.issues) problems.push(`${v.getDotPath(i) ?? 'silence'}: ${i.message}`);
  // A silence the options cannot make is a command line to correct: a usage error (exit 2), nothing written.
  if (problems.length > 0) throw new UsageError(problems);
  return silence;
}
