import * as v from 'valibot';

const patterns = v.pipe(
  v.union([v.string(), v.array(v.string())]),
  v.transform((x) => (Array.isArray(x) ? x : [x])),
);

/** The matcher fields a silence or a route takes: each a pattern or a list of them. */
export const matcherEntries = {
  instance: v.optional(patterns),
  namespace: v.optional(patterns),
  repo: v.optional(patterns),
  tag: v.optional(patterns),
  rule: v.optional(patterns),
  cause: v.optional(patterns),
};
export const matcherSchema = v.strictObject(matcherEntries);

const window = v.pipe(
  v.string(),
  v.regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'daily must look like 02:00-04:30'),
);

/** One silence: every given matcher must match (patterns use * as a wildcard); active until `expires`, or daily. */
export const silenceSchema = v.strictObject({
  comment: v.optional(v.string()),
  ...matcherEntries,
  expires: v.optional(
    v.pipe(v.string(), v.isoTimestamp('expires must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z')),
  ),
  daily: v.optional(window),
  timezone: v.optional(v.string()),
});
export const silencesSchema = v.array(silenceSchema);
