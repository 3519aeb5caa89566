/**
 * Attribute names. OpenTelemetry semantic conventions where one fits (`error.type`,
 * `url.full`, `http.response.status_code`); meishi's own under `meishi.*`.
 */
export const ATTR = {
  errorType: "error.type",
  urlFull: "url.full",
  httpStatus: "http.response.status_code",
  outcome: "meishi.outcome",
  reason: "meishi.reason",
  issuer: "meishi.issuer",
  cacheHit: "meishi.cache.hit",
  document: "meishi.jwks.document",
  servingStale: "meishi.jwks.serving_stale",
  keyCount: "meishi.jwks.key_count",
  refetched: "meishi.jwks.refetched",
  staleForMs: "meishi.jwks.stale_for_ms",
} as const;

/** Metric names; durations are in seconds, as the semantic conventions ask. */
export const METRIC = {
  verifications: "meishi.verifications",
  verificationDuration: "meishi.verification.duration",
  jwksFetches: "meishi.jwks.fetches",
  jwksFetchDuration: "meishi.jwks.fetch.duration",
  jwksStaleServed: "meishi.jwks.stale_served",
  kidMisses: "meishi.jwks.kid_misses",
  keyRotations: "meishi.jwks.key_rotations",
  keysIgnored: "meishi.jwks.keys_ignored",
  revokedTokens: "meishi.tokens.revoked",
} as const;

/** Span names. */
export const SPAN = {
  verify: "meishi.verify",
  jwksFetch: "meishi.jwks.fetch",
} as const;
