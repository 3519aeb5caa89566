import {
  ConfigurationError,
  type JwksSnapshot,
  type StaticKeys,
  type VerifierOptions,
} from "@meishi/core";

/** A JWKS object: `{ keys: [...] }`. */
export type JSONWebKeySet = Extract<StaticKeys, { keys: unknown }>;

/** What `jwksSnapshot` accepts once parsed. */
export type KeySnapshot = JwksSnapshot | JSONWebKeySet;

function isJwks(value: unknown): value is JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  return Array.isArray(keys) && keys.length > 0;
}

function isCoreSnapshot(value: unknown): value is JwksSnapshot {
  const snapshot = value as Partial<JwksSnapshot> | null;
  return (
    typeof snapshot?.uri === "string" &&
    typeof snapshot.fetchedAt === "number" &&
    typeof snapshot.expiresAt === "number" &&
    isJwks(snapshot.jwks)
  );
}

/**
 * Reads a key snapshot: a core `JwksSnapshot` (`{ uri, fetchedAt, expiresAt, jwks }`, what
 * `meishi jwks <uri> --snapshot` and `keySource.snapshot()` write) or a plain JWKS, given as the
 * object (a JSON file bundled at deploy time) or as its JSON text (an environment variable).
 * `undefined` or an empty string means no snapshot.
 * @throws {ConfigurationError} for anything else, at start-up rather than per request.
 * @example
 * const snapshot = readJwksSnapshot(process.env.MEISHI_JWKS_SNAPSHOT);
 */
export function readJwksSnapshot(value: KeySnapshot | string | undefined): KeySnapshot | undefined {
  if (value === undefined || value === "") return undefined;
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ConfigurationError("jwksSnapshot is not JSON");
    }
  }
  if (isCoreSnapshot(parsed) || isJwks(parsed)) return parsed;
  throw new ConfigurationError(
    "jwksSnapshot must be a snapshot { uri, fetchedAt, expiresAt, jwks } or a JWKS { keys: [...] } with at least one key",
  );
}

/**
 * The verifier options that make the snapshot the key cache's first content.
 *
 * - `offline: true`: the snapshot's keys are the key set. No fetch ever happens, and a key
 *   rotation needs a new deployment.
 * - Otherwise the remote key source starts from the snapshot and fetches only once the snapshot
 *   is past its `expiresAt` (capped by `keySource.maxAgeMs`). That needs the fetch time, so a
 *   plain JWKS is refused here: trusting keys of unknown age as fresh would keep a removed key
 *   alive.
 */
export function withKeySnapshot(
  options: VerifierOptions,
  snapshot: KeySnapshot | undefined,
  offline: boolean,
): VerifierOptions {
  if (snapshot === undefined) {
    if (offline) throw new ConfigurationError("offline: true needs a jwksSnapshot");
    return options;
  }
  if (options.issuers !== undefined) {
    throw new ConfigurationError(
      "jwksSnapshot works with a single issuer; give each of issuers its own jwksSnapshot instead",
    );
  }
  if (offline) {
    const { jwksUri: _remote, ...rest } = options;
    return { ...rest, keys: isCoreSnapshot(snapshot) ? snapshot.jwks : snapshot };
  }
  if (!isCoreSnapshot(snapshot)) {
    throw new ConfigurationError(
      "a plain JWKS has no fetch time, so it can only be used with offline: true; save a snapshot with `meishi jwks <uri> --snapshot` to seed the remote key source",
    );
  }
  return { ...options, jwksSnapshot: snapshot };
}
