import type { JWTVerifyOptions } from "jose";
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from "./algorithms.js";
import {
  buildKeySource,
  checkNonNegative,
  type StaticKeys,
  unknownOptionMessage,
} from "./build-key-source.js";
import { type DiagnosticLogger, Diagnostics } from "./diagnostics.js";
import { type DpopOptions, type ResolvedDpop, resolveDpop } from "./dpop.js";
import { ConfigurationError } from "./errors.js";
import { type EventListener, safeEmit } from "./events.js";
import type { TokenSourceOptions } from "./extract-token.js";
import { claimPathSegments, type Identity, type RolesClaim } from "./identity.js";
import {
  type JwksSnapshot,
  type KeyNow,
  type KeySource,
  type KeySourceOptions,
  keyNowOf,
} from "./key-source.js";
import {
  type ResourceMetadata,
  type ResourceMetadataOptions,
  resolveResourceMetadata,
} from "./resource-metadata.js";
import type { RevocationStore } from "./revocation.js";

export { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from "./algorithms.js";
export type { StaticKeys } from "./build-key-source.js";

/** What one issuer's tokens must satisfy, and where its keys come from. */
export interface IssuerOptions {
  /**
   * JWKS URL (https, or http on loopback). Leave out with a single string `issuer` to use
   * OIDC discovery (`<issuer>/.well-known/openid-configuration`).
   */
  jwksUri?: string | URL;
  /**
   * Keys given up front instead of a JWKS URL (tests, air-gapped services), or your own
   * {@link KeySource} (e.g. one from `createRemoteKeySource()` seeded with a snapshot).
   */
  keys?: StaticKeys | KeySource;
  /** Keys saved earlier with `snapshot()`: a cold start verifies without fetching `jwksUri`. */
  jwksSnapshot?: JwksSnapshot;
  /** Allowed JWS algorithms. Default: every asymmetric algorithm; HMAC and `none` are refused. */
  algorithms?: readonly AsymmetricAlgorithm[];
  /**
   * Where roles live. Default `"role"`. One path: a dotted string (`"realm_access.roles"`,
   * `"cognito:groups"`) or an array of segments for names with dots
   * (`["resource_access", "my.client", "roles"]`). Several paths: an array of segment arrays
   * (`[["realm_access", "roles"], ["resource_access", "my.client", "roles"]]`).
   */
  rolesClaim?: RolesClaim;
  /** Required `typ` header, e.g. `"at+jwt"` for RFC 9068 access tokens. Default: not checked. */
  typ?: string;
  /** Claims that must be present besides `exp` (always required). */
  requiredClaims?: readonly string[];
  /**
   * Top-level claims that must equal a value, or one of several (an array means "any of"),
   * e.g. `{ token_use: "access", client_id: "abc" }`. Own properties only; an array-valued claim
   * never matches. A mismatch is 401 `invalid_token`, reason `claim_invalid`.
   */
  claims?: Readonly<Record<string, ClaimValue | readonly ClaimValue[]>>;
  /** Seconds of clock skew allowed for `exp`, `nbf` and `iat`. Default 5. */
  clockToleranceSec?: number;
  /** Refuse tokens whose `iat` is older than this many seconds. Default: no limit. */
  maxTokenAgeSec?: number;
  /** Remote key source tuning (timeouts, caching, cooldown, limits). */
  keySource?: KeySourceOptions;
  /** Allow a plain-http `jwksUri` (or discovery issuer) off loopback. Never in production. */
  allowInsecureJwksUri?: boolean;
}

/** A value a claim of `claims` must equal. */
export type ClaimValue = string | number | boolean;

/** One entry of a multi-issuer allow-list. */
export interface TrustedIssuer extends IssuerOptions {
  /** The exact `iss` value. Tokens are routed by their (unverified) `iss`, then verified. */
  issuer: string;
  /** Expected `aud` (any of). `null` skips the audience check, by name. */
  audience: string | readonly string[] | null;
}

/** Options every form shares. */
export interface CommonVerifierOptions extends TokenSourceOptions {
  /** Receives fetch, failure, stale, miss, rotation, rejection and revocation events. */
  onEvent?: EventListener;
  /**
   * Where to explain refusals and key outages to the developer (rate-limited, one line per
   * reason per minute). Default: the console. `false` turns it off.
   */
  logger?: DiagnosticLogger | false;
  /**
   * Cache of verified tokens, so a token seen again skips the signature check. Entries end at
   * the token's `exp`, when the keys pass their max age, and when the key set changes.
   * Default `{ max: 10000, maxBytes: 64 MiB }`; `false` turns it off.
   */
  verifiedTokenCache?: { max?: number; maxBytes?: number } | false;
  /**
   * Revocation check, run on every request after the cache. Return true to refuse the token.
   * A throw, or no answer within `revocationTimeoutMs`, answers 503, never 401.
   */
  isRevoked?: (identity: Identity) => boolean | Promise<boolean>;
  /** A revocation store (in-memory, Redis), consulted on every request; `ready()` loads it. */
  revocation?: RevocationStore;
  /** Deadline for `isRevoked` and the revocation store. Default 1000. */
  revocationTimeoutMs?: number;
  /**
   * DPoP sender-constrained tokens (RFC 9449): `{ mode: "allowed" | "required", publicOrigin }`.
   * Default: disabled (the `DPoP` scheme is not read).
   */
  dpop?: DpopOptions | false;
  /**
   * RFC 9728 protected-resource metadata: adapters serve it at
   * `/.well-known/oauth-protected-resource` and every challenge links to it. Default: none.
   */
  resourceMetadata?: ResourceMetadataOptions;
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
  readonly rolePaths: readonly (readonly string[])[];
  readonly clockToleranceSec: number;
  readonly maxTokenAgeSec: number | undefined;
  readonly keySource: KeySource;
  /** The key source's synchronous lookup, when it is one of meishi's own. */
  readonly keyNow: KeyNow | undefined;
  /** The key source's lookup as jose's key function, bound once. */
  readonly resolveKey: KeySource["getKey"];
  /** Own-property presence checks jose does not make (it reads claims through the prototype). */
  readonly ownClaims: readonly string[];
  /** `claims`: each name with the values it may have. */
  readonly claimValues: readonly (readonly [string, readonly ClaimValue[]])[];
  readonly expected: {
    readonly issuer: string | readonly string[] | undefined;
    readonly audience: string | readonly string[] | undefined;
    readonly typ: string | undefined;
  };
  /** jose's options for this issuer, built once so the request path only passes them on. */
  readonly jwtVerifyOptions: Readonly<JWTVerifyOptions>;
}

export interface ResolvedOptions {
  readonly realm: string;
  readonly tokenSource: TokenSourceOptions;
  /** One entry in single-issuer mode (keyed by nothing); keyed by `iss` in multi-issuer mode. */
  readonly single: ResolvedIssuer | undefined;
  readonly byIssuer: ReadonlyMap<string, ResolvedIssuer>;
  /** The user's listener plus the developer diagnostics; what every part reports to. */
  readonly onEvent: EventListener;
  /** True when the user gave `onEvent`: per-request success events are emitted only then. */
  readonly reportsSuccess: boolean;
  readonly diagnostics: Diagnostics;
  readonly verifiedTokenCache: { readonly max: number; readonly maxBytes: number };
  readonly isRevoked: ((identity: Identity) => boolean | Promise<boolean>) | undefined;
  readonly revocation: RevocationStore | undefined;
  readonly revocationTimeoutMs: number;
  readonly dpop: ResolvedDpop | undefined;
  readonly resourceMetadata: ResourceMetadata | undefined;
}

/** Who is building a verifier, so a configuration error can name the user's own call. */
export interface VerifierContext {
  /** The user's call, e.g. `jwtAuth() from @meishi/express`. */
  readonly caller: string;
  /** Option names the caller adds on top of the verifier's own (optional, getToken, …). */
  readonly adapterKeys: readonly string[];
}

/** Default bounds of the verified-token cache. */
export const VERIFIED_TOKEN_CACHE_DEFAULTS: Readonly<{ max: number; maxBytes: number }> =
  Object.freeze({ max: 10_000, maxBytes: 64 * 1024 * 1024 });
export const DEFAULT_REVOCATION_TIMEOUT_MS = 1_000;

const ISSUER_KEYS = [
  "jwksUri",
  "keys",
  "jwksSnapshot",
  "algorithms",
  "rolesClaim",
  "typ",
  "requiredClaims",
  "claims",
  "clockToleranceSec",
  "maxTokenAgeSec",
  "keySource",
  "allowInsecureJwksUri",
] as const;
const COMMON_KEYS = [
  "onEvent",
  "logger",
  "verifiedTokenCache",
  "isRevoked",
  "revocation",
  "revocationTimeoutMs",
  "maxTokenBytes",
  "allowInsecureQueryToken",
  "cookieName",
  "realm",
  "dpop",
  "resourceMetadata",
] as const;
const SINGLE_KEYS: readonly string[] = [
  ...COMMON_KEYS,
  ...ISSUER_KEYS,
  "issuer",
  "audience",
  "issuers",
];
const TRUSTED_ISSUER_KEYS: readonly string[] = [...ISSUER_KEYS, "issuer", "audience"];

type Fail = (message: string) => never;

function checkKnownKeys(
  fail: Fail,
  options: object,
  known: readonly string[],
  prefix: string,
): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) fail(unknownOptionMessage(`${prefix}${name}`, name, known));
  }
}

function checkStringList(fail: Fail, name: string, value: unknown): string | string[] | undefined {
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

function resolveAlgorithms(fail: Fail, value: readonly string[] | undefined): readonly string[] {
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

function resolveRolePaths(
  fail: Fail,
  value: RolesClaim | undefined,
): readonly (readonly string[])[] {
  if (value === undefined) return [["role"]];
  let paths: readonly (string | readonly string[])[];
  if (typeof value === "string") paths = [value];
  else if (Array.isArray(value) && value.length > 0 && value.every(Array.isArray)) paths = value;
  else if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === "string")
  ) {
    paths = [value as readonly string[]];
  } else {
    return fail(
      'rolesClaim is one path ("realm_access.roles" or ["resource_access", "my.client", "roles"]) ' +
        'or several paths as arrays of segments ([["realm_access", "roles"], ["groups"]])',
    );
  }
  return Object.freeze(
    paths.map((path) => {
      const segments = claimPathSegments(path);
      return typeof segments === "string" ? fail(`rolesClaim: ${segments}`) : segments;
    }),
  );
}

function resolveIssuer(
  fail: Fail,
  options: IssuerOptions,
  issuer: string | string[] | undefined,
  audience: string | string[] | undefined,
  onEvent: EventListener | undefined,
): ResolvedIssuer {
  const algorithms = resolveAlgorithms(fail, options.algorithms);
  const discoveryIssuer = typeof issuer === "string" ? issuer : undefined;
  const clockToleranceSec = checkNonNegative(
    fail,
    "clockToleranceSec",
    options.clockToleranceSec,
    5,
  );
  const maxTokenAgeSec =
    options.maxTokenAgeSec === undefined
      ? undefined
      : checkNonNegative(fail, "maxTokenAgeSec", options.maxTokenAgeSec, 0);
  const requiredClaims = options.requiredClaims ?? [];
  if (!Array.isArray(requiredClaims) || requiredClaims.some((claim) => typeof claim !== "string")) {
    fail("requiredClaims must be an array of claim names");
  }
  const jwtVerifyOptions: JWTVerifyOptions = {
    algorithms: [...algorithms],
    clockTolerance: clockToleranceSec,
    requiredClaims: ["exp", ...requiredClaims],
  };
  if (issuer !== undefined) jwtVerifyOptions.issuer = issuer;
  if (audience !== undefined) jwtVerifyOptions.audience = audience;
  if (options.typ !== undefined) jwtVerifyOptions.typ = options.typ;
  if (maxTokenAgeSec !== undefined) jwtVerifyOptions.maxTokenAge = maxTokenAgeSec;
  const ownClaims = ["exp", ...requiredClaims];
  if (issuer !== undefined) ownClaims.push("iss");
  if (audience !== undefined) ownClaims.push("aud");
  if (maxTokenAgeSec !== undefined) ownClaims.push("iat");
  const keySource = buildKeySource(fail, options, discoveryIssuer, algorithms, onEvent);
  const claimValues = resolveClaimValues(fail, options.claims);
  return Object.freeze({
    algorithms,
    rolePaths: resolveRolePaths(fail, options.rolesClaim),
    clockToleranceSec,
    maxTokenAgeSec,
    keySource,
    keyNow: keyNowOf(keySource),
    resolveKey: keySource.getKey.bind(keySource),
    ownClaims: Object.freeze([...new Set(ownClaims)]),
    claimValues,
    expected: Object.freeze({ issuer, audience, typ: options.typ }),
    jwtVerifyOptions: Object.freeze(jwtVerifyOptions),
  });
}

function resolveClaimValues(
  fail: Fail,
  value: IssuerOptions["claims"],
): ResolvedIssuer["claimValues"] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail('claims must be an object such as { token_use: "access" }');
  }
  const isValue = (item: unknown) =>
    typeof item === "string" || typeof item === "number" || typeof item === "boolean";
  return Object.freeze(
    Object.entries(value).map(([name, expected]) => {
      const allowed = Array.isArray(expected) ? expected : [expected];
      if (allowed.length === 0 || !allowed.every(isValue)) {
        fail(`claims.${name} must be a string, number or boolean, or a non-empty array of them`);
      }
      return Object.freeze([name, Object.freeze([...allowed])] as const);
    }),
  );
}

function resolveCache(fail: Fail, value: unknown): ResolvedOptions["verifiedTokenCache"] {
  if (value === false) return { max: 0, maxBytes: 0 };
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    fail("verifiedTokenCache must be { max, maxBytes } or false");
  }
  const cache = (value ?? {}) as { max?: unknown; maxBytes?: unknown };
  checkKnownKeys(fail, cache, ["max", "maxBytes"], "verifiedTokenCache.");
  return Object.freeze({
    max: checkNonNegative(
      fail,
      "verifiedTokenCache.max",
      cache.max,
      VERIFIED_TOKEN_CACHE_DEFAULTS.max,
    ),
    maxBytes: checkNonNegative(
      fail,
      "verifiedTokenCache.maxBytes",
      cache.maxBytes,
      VERIFIED_TOKEN_CACHE_DEFAULTS.maxBytes,
    ),
  });
}

function resourceOriginOf(value: ResourceMetadataOptions | undefined): string | undefined {
  if (typeof value?.resource !== "string") return undefined;
  try {
    return new URL(value.resource).origin;
  } catch {
    // resolveResourceMetadata says what is wrong with it.
    return undefined;
  }
}

/** Validates options once, at start-up; the request path never re-checks them. */
export function resolveOptions(
  options: VerifierOptions,
  context: VerifierContext = { caller: "createVerifier()", adapterKeys: [] },
): ResolvedOptions {
  const fail: Fail = (message) => {
    throw new ConfigurationError(`${context.caller}: ${message}`);
  };
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    fail("options must be an object: { jwksUri, issuer, audience } (or a JWKS URL string)");
  }
  checkKnownKeys(fail, options, [...SINGLE_KEYS, ...context.adapterKeys], "");
  const userListener = options.onEvent;
  if (userListener !== undefined && typeof userListener !== "function") {
    fail("onEvent must be a function");
  }
  if (options.isRevoked !== undefined && typeof options.isRevoked !== "function") {
    fail("isRevoked must be a function (identity) => boolean | Promise<boolean>");
  }
  const revocation = options.revocation;
  if (
    revocation !== undefined &&
    (typeof revocation !== "object" ||
      revocation === null ||
      typeof revocation.isRevoked !== "function")
  ) {
    fail("revocation must be a store with an isRevoked(query) method");
  }
  const logger = options.logger;
  if (
    logger !== undefined &&
    logger !== false &&
    (typeof logger?.warn !== "function" || typeof logger.error !== "function")
  ) {
    fail("logger must have warn() and error() methods (console, pino, Fastify's log), or be false");
  }
  const diagnostics = new Diagnostics(logger);
  const onEvent: EventListener = (event) => {
    if (event.type === "jwks_fetch_failed") {
      diagnostics.fetchFailed(event.uri, event.reason, event.servingStale, event.error.message);
    }
    safeEmit(userListener, event);
  };
  const tokenSource: TokenSourceOptions = Object.freeze({
    maxTokenBytes: checkNonNegative(fail, "maxTokenBytes", options.maxTokenBytes, 16 * 1024),
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
    if (options.issuer !== undefined || options.audience !== undefined) {
      fail("give issuer and audience inside each entry of issuers, not beside it");
    }
    for (const [index, trusted] of options.issuers.entries()) {
      if (typeof trusted !== "object" || trusted === null)
        fail(`issuers[${index}] must be an object`);
      checkKnownKeys(fail, trusted, TRUSTED_ISSUER_KEYS, `issuers[${index}].`);
      if (typeof trusted.issuer !== "string" || trusted.issuer === "") {
        fail("each entry of issuers needs an issuer string");
      }
      if (byIssuer.has(trusted.issuer)) fail(`issuer ${trusted.issuer} is listed twice`);
      byIssuer.set(
        trusted.issuer,
        resolveIssuer(
          fail,
          trusted,
          trusted.issuer,
          checkStringList(fail, "audience", trusted.audience),
          onEvent,
        ),
      );
    }
  } else {
    single = resolveIssuer(
      fail,
      options,
      checkStringList(fail, "issuer", options.issuer),
      checkStringList(fail, "audience", options.audience),
      onEvent,
    );
  }
  const resourceOrigin = resourceOriginOf(options.resourceMetadata);
  const dpop = resolveDpop(fail, options.dpop, resourceOrigin);
  const resourceMetadata = resolveResourceMetadata(fail, options.resourceMetadata, {
    dpopAlgorithms: dpop?.algorithms,
    dpopRequired: dpop?.mode === "required",
    queryTokens: tokenSource.allowInsecureQueryToken === true,
  });
  return Object.freeze({
    dpop,
    resourceMetadata,
    realm: tokenSource.realm ?? "api",
    tokenSource,
    single,
    byIssuer,
    onEvent,
    reportsSuccess: userListener !== undefined,
    diagnostics,
    verifiedTokenCache: resolveCache(fail, options.verifiedTokenCache),
    isRevoked: options.isRevoked,
    revocation,
    revocationTimeoutMs: checkNonNegative(
      fail,
      "revocationTimeoutMs",
      options.revocationTimeoutMs,
      DEFAULT_REVOCATION_TIMEOUT_MS,
    ),
  });
}
