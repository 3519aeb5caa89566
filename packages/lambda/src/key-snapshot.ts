import { ConfigurationError, type StaticKeys, type VerifierOptions } from "@meishi/core";

/** A JWKS object: `{ keys: [...] }`. */
export type JSONWebKeySet = Extract<StaticKeys, { keys: unknown }>;

/**
 * Reads a JWKS snapshot: the object itself (a JSON file bundled at deploy time), or its JSON
 * text (an environment variable). `undefined` or an empty string means no snapshot.
 * @throws {ConfigurationError} for text that is not a JWKS, at start-up rather than per request.
 * @example
 * const snapshot = readJwksSnapshot(process.env.MEISHI_JWKS_SNAPSHOT);
 */
export function readJwksSnapshot(
  value: JSONWebKeySet | string | undefined,
): JSONWebKeySet | undefined {
  if (value === undefined || value === "") return undefined;
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ConfigurationError("jwksSnapshot is not JSON: expected a JWKS { keys: [...] }");
    }
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigurationError("jwksSnapshot must be a JWKS with at least one key in keys");
  }
  return parsed as JSONWebKeySet;
}

/**
 * The verifier options that make the snapshot the key cache's first content.
 *
 * With `offline: true` the snapshot is the key set: no fetch ever happens, and a key rotation
 * needs a new deployment. Without it, the remote source should start from the snapshot and fetch
 * only once the snapshot is old; @meishi/core cannot seed its remote source yet, so that form is
 * refused instead of silently fetching on every cold start.
 */
export function withKeySnapshot(
  options: VerifierOptions,
  snapshot: JSONWebKeySet | undefined,
  offline: boolean,
): VerifierOptions {
  if (snapshot === undefined) {
    if (offline) throw new ConfigurationError("offline: true needs a jwksSnapshot");
    return options;
  }
  if (options.issuers !== undefined) {
    throw new ConfigurationError("jwksSnapshot works with a single issuer, not with issuers");
  }
  if (offline) {
    const { jwksUri: _remote, ...rest } = options;
    return { ...rest, keys: snapshot };
  }
  // When core's remote key source accepts a seed, this becomes:
  // return { ...options, keySource: { ...options.keySource, seed: snapshot } };
  throw new ConfigurationError(
    "jwksSnapshot needs offline: true in this version (the remote key source cannot be seeded yet)",
  );
}
