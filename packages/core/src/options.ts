import type { KeyObject } from "node:crypto";
import type { JSONWebKeySet, JWTVerifyOptions } from "jose";
import { ConfigurationError } from "./errors.js";
import type { EventListener } from "./events.js";
import type { TokenSourceOptions } from "./extract-token.js";
import type { ClaimPath, Identity } from "./identity.js";
import { parseKeySet } from "./key-set.js";
import {
  KEY_SOURCE_DEFAULTS,
  type KeySource,
  type KeySourceOptions,
  RemoteKeySource,
  StaticKeySource,
} from "./key-source.js";

/** The asymmetric JWS algorithms meishi verifies (RFC 7518 §3, RFC 8037). */
export type AsymmetricAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519";

/** Every supported algorithm; the default allow-list. */
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = Object.freeze([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);

/** Verification keys given up front: a JWKS object, a PEM (SPKI or certificate) or a KeyObject. */
export type StaticKeys = JSONWebKeySet | KeyObject | string;

/** What one issuer's tokens must satisfy, and where its keys come from. */
export interface IssuerOptions {
  /**
   * JWKS URL (https, or http on loopback). Leave out with a single string `issuer` to use
   * OIDC discovery (`<issuer>/.well-known/openid-configuration`).
   */
  jwksUri?: string | URL;
  /** Keys given up front instead of a JWKS URL (tests, air-gapped services). */
  keys?: StaticKeys;
  /** Allowed JWS algorithms. Default: every asymmetric algorithm; HMAC and `none` are refused. */
  algorithms?: readonly AsymmetricAlgorithm[];
  /**
   * Where roles live: a claim path or several. Default `"role"`. Nested paths
   * (`"realm_access.roles"`) and names with colons (`"cognito:groups"`) work.
   */
  rolesClaim?: ClaimPath | readonly ClaimPath[];
  /** Required `typ` header, e.g. `"at+jwt"` for RFC 9068 access tokens. Default: not checked. */
  typ?: string;
  /** Claims that must be present besides `exp` (always required). */
  requiredClaims?: readonly string[];
  /** Seconds of clock skew allowed for `exp`, `nbf` and `iat`. Default 5. */
  clockToleranceSec?: number;
  /** Refuse tokens whose `iat` is older than this many seconds. Default: no limit. */
  maxTokenAgeSec?: number;
  /** Remote key source tuning (timeouts, caching, cooldown, limits). */
  keySource?: KeySourceOptions;
  /** Allow a plain-http `jwksUri` on a non-loopback host. Never in production. */
  allowInsecureJwksUri?: boolean;
}

/** One entry of a multi-issuer allow-list. */
export interface TrustedIssuer extends IssuerOptions {
  /** The exact `iss` value. Tokens are routed by their (unverified) `iss`, then verified. */
  issuer: string;
  /** Expected `aud` (any of). `null` skips the audience check, by name. */
  audience: string | readonly string[] | null;
}

/** Options every form shares. */
export interface CommonVerifierOptions extends TokenSourceOptions {
  /** Receives fetch, failure, stale, miss, rotation and rejection events. */
  onEvent?: EventListener;
  /**
   * Cache of verified tokens, so a token seen again skips the signature check. Entries end at
   * the token's `exp` and are dropped when the key set changes. Default `{ max: 1000 }`;
   * `false` turns it off.
   */
  verifiedTokenCache?: { max?: number } | false;
  /**
   * Revocation check, run on every request after the cache. Return true to refuse the token.
   * A throw answers 503, never 401.
   */
  isRevoked?: (identity: Identity) => boolean | Promise<boolean>;
}

/** One issuer: `issuer` and `audience` are required; skipping a check takes an explicit `null`. */
export interface SingleIssuerOptions extends CommonVerifierOptions, IssuerOptions {
  /** Expected `iss` (any of). `null` skips the issuer check, by name. */
  issuer: string | readonly string[] | null;
  /** Expected `aud` (any of). `null` skips the audience check, by name. */
  audience: string | readonly string[] | null;
  issuers?: undefined;
}

/** Several issuers, each with its own keys and rules, chosen by the token's `iss`. */
export interface MultiIssuerOptions extends CommonVerifierOptions {
  issuers: readonly TrustedIssuer[];
  issuer?: undefined;
  audience?: undefined;
}

/** Options of `createVerifier`. */
export type VerifierOptions = SingleIssuerOptions | MultiIssuerOptions;

/** An issuer's resolved rules. */
export interface ResolvedIssuer {
  readonly algorithms: readonly string[];
  readonly rolePaths: readonly ClaimPath[];
  readonly clockToleranceSec: number;
  readonly maxTokenAgeSec: number | undefined;
  readonly keySource: KeySource;
  /** jose's options for this issuer, built once so the request path only passes them on. */
  readonly jwtVerifyOptions: Readonly<JWTVerifyOptions>;
}

export interface ResolvedOptions {
  readonly realm: string;
  readonly tokenSource: TokenSourceOptions;
  /** One entry in single-issuer mode (keyed by nothing); keyed by `iss` in multi-issuer mode. */
  readonly single: ResolvedIssuer | undefined;
  readonly byIssuer: ReadonlyMap<string, ResolvedIssuer>;
  readonly onEvent: EventListener | undefined;
  readonly verifiedTokenCacheMax: number;
  readonly isRevoked: ((identity: Identity) => boolean | Promise<boolean>) | undefined;
}

function fail(message: string): never {
  throw new ConfigurationError(message);
}

function checkStringList(name: string, value: unknown): string | string[] | undefined {
  if (value === null) return undefined;
  if (value === undefined) {
    fail(`${name} is required; pass null to skip the ${name} check on purpose`);
  }
  if (typeof value === "string" && value !== "") return value;
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === "string" && item !== "")
  ) {
    return [...(value as string[])];
  }
  return fail(`${name} must be a non-empty string, a non-empty array of strings, or null`);
}

function checkPositive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(`${name} must be a finite number of zero or more`);
  }
  return value;
}

function resolveAlgorithms(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return ASYMMETRIC_ALGORITHMS;
  if (!Array.isArray(value) || value.length === 0) fail("algorithms must be a non-empty array");
  for (const alg of value) {
    // RFC 8725 §3.1: HMAC with a published key set lets anyone forge tokens; `none` is no check.
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      fail(`algorithm ${String(alg)} is not allowed: meishi verifies asymmetric signatures only`);
    }
  }
  return Object.freeze([...value]);
}

function resolveKeySourceOptions(options: KeySourceOptions | undefined) {
  const merged = { ...KEY_SOURCE_DEFAULTS };
  for (const [name, value] of Object.entries(options ?? {})) {
    if (!(name in KEY_SOURCE_DEFAULTS)) fail(`keySource.${name} is not an option`);
    if (value === undefined) continue;
    (merged as Record<string, number>)[name] = checkPositive(`keySource.${name}`, value, 0);
  }
  if (merged.timeoutMs <= 0) fail("keySource.timeoutMs must be positive");
  return Object.freeze(merged);
}

function parseUrl(value: string | URL): URL {
  try {
    return new URL(value);
  } catch {
    return fail(`jwksUri ${String(value)} is not a URL`);
  }
}

function resolveKeySource(
  options: IssuerOptions,
  discoveryIssuer: string | undefined,
  algorithms: readonly string[],
  onEvent: EventListener | undefined,
): KeySource {
  if (options.jwksUri !== undefined && options.keys !== undefined) {
    fail("give either jwksUri or keys, not both");
  }
  const allowInsecureHttp = options.allowInsecureJwksUri === true;
  const keySourceOptions = resolveKeySourceOptions(options.keySource);
  const remote = (location: ConstructorParameters<typeof RemoteKeySource>[0]["location"]) => {
    try {
      return new RemoteKeySource({
        location,
        algorithms,
        allowInsecureHttp,
        options: keySourceOptions,
        onEvent,
      });
    } catch (error) {
      return fail(`cannot use that key location: ${(error as Error).message}`);
    }
  };
  if (options.jwksUri !== undefined) return remote({ jwksUri: parseUrl(options.jwksUri) });
  if (options.keys !== undefined) {
    const keys = options.keys;
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
  if (discoveryIssuer !== undefined) {
    parseUrl(discoveryIssuer);
    return remote({ discoveryIssuer });
  }
  return fail("give jwksUri, keys, or a single issuer URL to discover the keys from");
}

function resolveRolePaths(value: IssuerOptions["rolesClaim"]): readonly ClaimPath[] {
  if (value === undefined) return ["role"];
  // A string is one path; an array of strings is several paths unless it is meant as segments,
  // which users express as an array of arrays.
  const paths: readonly ClaimPath[] = typeof value === "string" ? [value] : value;
  if (paths.length === 0) fail("rolesClaim must name at least one claim");
  return Object.freeze([...paths]);
}

function resolveIssuer(
  options: IssuerOptions,
  issuer: string | string[] | undefined,
  audience: string | string[] | undefined,
  onEvent: EventListener | undefined,
): ResolvedIssuer {
  const algorithms = resolveAlgorithms(options.algorithms);
  const discoveryIssuer = typeof issuer === "string" ? issuer : undefined;
  const clockToleranceSec = checkPositive("clockToleranceSec", options.clockToleranceSec, 5);
  const maxTokenAgeSec =
    options.maxTokenAgeSec === undefined
      ? undefined
      : checkPositive("maxTokenAgeSec", options.maxTokenAgeSec, 0);
  const jwtVerifyOptions: JWTVerifyOptions = {
    algorithms: [...algorithms],
    clockTolerance: clockToleranceSec,
    requiredClaims: ["exp", ...(options.requiredClaims ?? [])],
  };
  if (issuer !== undefined) jwtVerifyOptions.issuer = issuer;
  if (audience !== undefined) jwtVerifyOptions.audience = audience;
  if (options.typ !== undefined) jwtVerifyOptions.typ = options.typ;
  if (maxTokenAgeSec !== undefined) jwtVerifyOptions.maxTokenAge = maxTokenAgeSec;
  return Object.freeze({
    algorithms,
    rolePaths: resolveRolePaths(options.rolesClaim),
    clockToleranceSec,
    maxTokenAgeSec,
    keySource: resolveKeySource(options, discoveryIssuer, algorithms, onEvent),
    jwtVerifyOptions: Object.freeze(jwtVerifyOptions),
  });
}

/** Validates options once, at start-up; the request path never re-checks them. */
export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) fail("options must be an object");
  const onEvent = options.onEvent;
  const cache = options.verifiedTokenCache;
  const verifiedTokenCacheMax =
    cache === false ? 0 : checkPositive("verifiedTokenCache.max", cache?.max, 1000);
  const tokenSource: TokenSourceOptions = Object.freeze({
    maxTokenBytes: checkPositive("maxTokenBytes", options.maxTokenBytes, 16 * 1024),
    allowInsecureQueryToken: options.allowInsecureQueryToken === true,
    ...(options.cookieName === undefined ? {} : { cookieName: options.cookieName }),
    realm: options.realm ?? "api",
  });
  let single: ResolvedIssuer | undefined;
  const byIssuer = new Map<string, ResolvedIssuer>();
  if (options.issuers !== undefined) {
    if (!Array.isArray(options.issuers) || options.issuers.length === 0) {
      fail("issuers must be a non-empty array");
    }
    for (const trusted of options.issuers) {
      if (typeof trusted.issuer !== "string" || trusted.issuer === "") {
        fail("each entry of issuers needs an issuer string");
      }
      if (byIssuer.has(trusted.issuer)) fail(`issuer ${trusted.issuer} is listed twice`);
      byIssuer.set(
        trusted.issuer,
        resolveIssuer(
          trusted,
          trusted.issuer,
          checkStringList("audience", trusted.audience),
          onEvent,
        ),
      );
    }
  } else {
    single = resolveIssuer(
      options,
      checkStringList("issuer", options.issuer),
      checkStringList("audience", options.audience),
      onEvent,
    );
  }
  return Object.freeze({
    realm: tokenSource.realm ?? "api",
    tokenSource,
    single,
    byIssuer,
    onEvent,
    verifiedTokenCacheMax,
    isRevoked: options.isRevoked,
  });
}
