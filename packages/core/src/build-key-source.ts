import type { JSONWebKeySet, KeyObject } from "jose";
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from "./algorithms.js";
import { ConfigurationError } from "./errors.js";
import type { EventListener } from "./events.js";
import { parseKeySet } from "./key-set.js";
import {
  type JwksSnapshot,
  KEY_SOURCE_DEFAULTS,
  type KeySource,
  type KeySourceOptions,
  RemoteKeySource,
  type ResolvedKeySourceOptions,
  StaticKeySource,
} from "./key-source.js";

/**
 * Verification keys given up front: a JWKS object (any runtime), or on Node a PEM (SPKI or
 * certificate) or a `KeyObject`.
 */
export type StaticKeys = JSONWebKeySet | KeyObject | string;

/** Where an issuer's keys come from, as the verifier options give it. */
export interface KeyLocation {
  jwksUri?: string | URL | undefined;
  keys?: StaticKeys | KeySource | undefined;
  keySource?: KeySourceOptions | undefined;
  allowInsecureJwksUri?: boolean | undefined;
  jwksSnapshot?: JwksSnapshot | undefined;
}

type Fail = (message: string) => never;

export function checkNonNegative(
  fail: Fail,
  name: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(`${name} must be a finite number of zero or more`);
  }
  return value as number;
}

function resolveKeySourceOptions(fail: Fail, options: unknown): ResolvedKeySourceOptions {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    fail("keySource must be an object of tuning options");
  }
  const merged: Record<string, number> = { ...KEY_SOURCE_DEFAULTS };
  for (const [name, value] of Object.entries(options ?? {})) {
    if (!Object.hasOwn(KEY_SOURCE_DEFAULTS, name)) {
      fail(unknownOptionMessage(`keySource.${name}`, name, Object.keys(KEY_SOURCE_DEFAULTS)));
    }
    if (value === undefined) continue;
    merged[name] = checkNonNegative(fail, `keySource.${name}`, value, 0);
  }
  if (merged.timeoutMs! <= 0) fail("keySource.timeoutMs must be positive");
  return Object.freeze(merged) as unknown as ResolvedKeySourceOptions;
}

function parseUrl(fail: Fail, name: string, value: string | URL): URL {
  try {
    return new URL(value);
  } catch {
    return fail(`${name} ${String(value)} is not a URL`);
  }
}

/** True for a user's own {@link KeySource}. */
export function isKeySource(value: unknown): value is KeySource {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as KeySource).getKey === "function" &&
    typeof (value as KeySource).ready === "function"
  );
}

/** Builds an issuer's key source from its options; every mistake is a ConfigurationError. */
export function buildKeySource(
  fail: Fail,
  options: KeyLocation,
  discoveryIssuer: string | undefined,
  algorithms: readonly string[],
  onEvent: EventListener | undefined,
): KeySource {
  if (options.jwksUri !== undefined && options.keys !== undefined) {
    fail("give either jwksUri or keys, not both");
  }
  if (isKeySource(options.keys)) return options.keys;
  if (
    options.jwksUri === undefined &&
    options.keys === undefined &&
    discoveryIssuer === undefined
  ) {
    fail("give jwksUri, keys, or a single issuer URL to discover the keys from");
  }
  if (options.keys !== undefined) return staticKeySource(fail, options.keys, algorithms);
  const location =
    options.jwksUri !== undefined
      ? { jwksUri: parseUrl(fail, "jwksUri", options.jwksUri) }
      : { discoveryIssuer: discoveryIssuer! };
  if ("discoveryIssuer" in location) parseUrl(fail, "issuer", location.discoveryIssuer);
  try {
    return new RemoteKeySource({
      location,
      algorithms,
      allowInsecureHttp: options.allowInsecureJwksUri === true,
      options: resolveKeySourceOptions(fail, options.keySource),
      onEvent,
      snapshot: options.jwksSnapshot,
    });
  } catch (error) {
    return fail(`cannot use that key location: ${(error as Error).message}`);
  }
}

function staticKeySource(fail: Fail, keys: StaticKeys, algorithms: readonly string[]): KeySource {
  if (typeof keys === "object" && "keys" in keys && Array.isArray(keys.keys)) {
    // Importing keys is async, so an unusable static set surfaces at ready() or the first
    // verify, still as a ConfigurationError: a mistake in the setup is never a 401.
    const parsed = parseKeySet(keys, {
      algorithms,
      maxKeys: Number.POSITIVE_INFINITY,
      onIgnored: () => {},
    }).catch((error: unknown) => {
      throw new ConfigurationError(`keys: ${(error as Error).message}`);
    });
    return new StaticKeySource(parsed);
  }
  try {
    return new StaticKeySource(keys as KeyObject | string);
  } catch (error) {
    return fail(`keys: ${(error as Error).message}`);
  }
}

/** Options of {@link createRemoteKeySource}. */
export interface RemoteKeySourceOptions extends KeySourceOptions {
  /** The JWKS URL (https, or http on loopback). */
  jwksUri?: string | URL;
  /** Or an issuer whose OIDC discovery document names the JWKS URL. */
  issuer?: string;
  /** Keys whose `alg` is outside this list are ignored. Default: every asymmetric algorithm. */
  algorithms?: readonly AsymmetricAlgorithm[];
  /** Allow a plain-http URL off loopback. Never in production. */
  allowInsecureJwksUri?: boolean;
  /** Keys saved earlier with `snapshot()`, so a cold start verifies without a fetch. */
  snapshot?: JwksSnapshot;
  /** Fetch, failure, stale, miss and rotation events. */
  onEvent?: EventListener;
}

/**
 * Builds meishi's remote key source on its own, to inspect it (`status()`), save its keys
 * (`snapshot()`) for a serverless cold start, seed it from such a snapshot, or share it
 * between verifiers. Pass it to `createVerifier({ keys: source, issuer, audience })`.
 *
 * @throws {ConfigurationError} for a bad option.
 * @example
 * const keys = createRemoteKeySource({ jwksUri, snapshot: JSON.parse(process.env.JWKS_SNAPSHOT ?? "null") ?? undefined });
 * const verifier = createVerifier({ keys, issuer, audience });
 */
export function createRemoteKeySource(options: RemoteKeySourceOptions): RemoteKeySource {
  const fail: Fail = (message) => {
    throw new ConfigurationError(`createRemoteKeySource(): ${message}`);
  };
  if (typeof options !== "object" || options === null) fail("options must be an object");
  const { jwksUri, issuer, algorithms, allowInsecureJwksUri, snapshot, onEvent, ...tuning } =
    options;
  if ((jwksUri === undefined) === (issuer === undefined)) fail("give jwksUri or issuer");
  for (const alg of algorithms ?? []) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      fail(`algorithm ${String(alg)} is not allowed: meishi verifies asymmetric signatures only`);
    }
  }
  return buildKeySource(
    fail,
    { jwksUri, keySource: tuning, allowInsecureJwksUri, jwksSnapshot: snapshot },
    issuer,
    algorithms ?? ASYMMETRIC_ALGORITHMS,
    onEvent,
  ) as RemoteKeySource;
}

const NAME_DISTANCE_LIMIT = 2;

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(
        above + 1,
        previous[j - 1]! + 1,
        diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** "`jwksURI` is not an option; did you mean `jwksUri`?" */
export function unknownOptionMessage(
  shown: string,
  name: string,
  known: readonly string[],
): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance =
      candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const hint =
    best !== undefined && bestDistance <= NAME_DISTANCE_LIMIT ? `; did you mean ${best}?` : "";
  return `${shown} is not an option${hint}`;
}
