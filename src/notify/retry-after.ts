/**
 * Parses an HTTP `Retry-After` value (delta-seconds or an HTTP-date) into ms from `now`.
 * Returns undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
