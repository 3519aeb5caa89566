import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  type JWTHeaderParameters,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  UnsecuredJWT,
} from "jose";
import { LRUCache } from "lru-cache";
import { claimsPassAsJoseWould } from "./claims-precheck.js";
import type { DiagnosticLogger } from "./diagnostics.js";
import { boundThumbprint, DpopRequestChecker } from "./dpop.js";
import {
  type AuthError,
  type ChallengeContext,
  ConfigurationError,
  InvalidTokenError,
  isAuthError,
  MissingTokenError,
  restateChallenge,
  ServiceUnavailableError,
  withoutStackCapture,
} from "./errors.js";
import {
  type Credentials,
  DEFAULT_MAX_TOKEN_BYTES,
  findCredentials,
  peekBearerToken,
  type TokenRequest,
} from "./extract-token.js";
import {
  type AuthClaims,
  createIdentity,
  type Identity,
  type IdentityOrigin,
  ownClaim,
} from "./identity.js";
import { descriptionFor, toAuthError } from "./jose-errors.js";
import { isAcceptableKid, type VerificationKey } from "./key-set.js";
import {
  type ClaimValue,
  type ResolvedIssuer,
  type ResolvedOptions,
  resolveOptions,
  type VerifierContext,
  type VerifierOptions,
} from "./options.js";
import { platform } from "./platform.js";
import type { ResourceMetadata } from "./resource-metadata.js";
import type { RevocationQuery } from "./revocation.js";
import { type AuthRule, authorize } from "./rules.js";

export type { VerifierContext } from "./options.js";

/** How a request is authenticated. */
export interface AuthenticateOptions {
  /** Let requests without any token through as `undefined`. An invalid token still fails. */
  optional?: boolean;
  /** Read the token yourself instead of from the request (`undefined` means none was sent). */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /**
   * Where to tell the developer why this request's token was refused (Fastify passes
   * `request.log`). Default: the verifier's `logger`.
   */
  log?: DiagnosticLogger;
  /**
   * Sets a response header; DPoP with server nonces sends the current `DPoP-Nonce` through it
   * after a request passes.
   */
  setHeader?: (name: string, value: string) => void;
}

/** Verifies bearer tokens. Create one per application, at start-up, and share it. */
export interface Verifier<Claims extends JWTPayload = AuthClaims> {
  /**
   * Verifies a token: structure, algorithm, key, signature, `exp`/`nbf`/`iat`, issuer,
   * audience, `typ`, required claims, revocation.
   * @throws {InvalidTokenError} 401 for any token problem.
   * @throws {ServiceUnavailableError} 503 when keys or the revocation store cannot be had.
   */
  verify(token: string, options?: { log?: DiagnosticLogger }): Promise<Identity<Claims>>;
  /**
   * Extracts the token from a request (RFC 6750 §2.1) and verifies it.
   * @throws {MissingTokenError} 401 when no token was sent (unless `optional`).
   * @throws {InvalidRequestError} 400 for a malformed request.
   */
  authenticate(
    request: TokenRequest,
    options?: AuthenticateOptions & { optional?: false },
  ): Promise<Identity<Claims>>;
  authenticate(
    request: TokenRequest,
    options: AuthenticateOptions,
  ): Promise<Identity<Claims> | undefined>;
  /**
   * Checks rules against an identity with this verifier's realm.
   * @throws {MissingTokenError} 401 when there is no identity.
   * @throws {InsufficientScopeError} 403 when a rule fails.
   */
  authorize(
    identity: Identity | undefined | null,
    rules: readonly AuthRule[],
    options?: { log?: DiagnosticLogger },
  ): void;
  /** Loads every key source and the revocation store; resolves when tokens can be verified. */
  ready(): Promise<void>;
  /** The challenge realm. */
  readonly realm: string;
  /** The RFC 9728 metadata adapters serve, from the `resourceMetadata` option. */
  readonly resourceMetadata: ResourceMetadata | undefined;
}

const warnedShorthands = new Set<string>();

function warnShorthand(jwksUri: string): void {
  if (warnedShorthands.has(jwksUri)) return;
  warnedShorthands.add(jwksUri);
  platform.emitWarning(
    `meishi: verifying tokens against ${jwksUri} WITHOUT checking issuer or audience. ` +
      "Any token signed by these keys is accepted, including ones meant for other APIs. " +
      "Pass { jwksUri, issuer, audience } to check them.",
    "MEISHI_UNCHECKED_CLAIMS",
  );
}

// Three base64url segments; anything else is refused before any parsing or key lookup.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Keys tried for a token whose header names no `kid` (or a `kid` two keys share) when several
 * keys fit its `alg`: enough for a rotation's next/current/retiring keys, few enough that an
 * attacker cannot make one request cost many signature checks.
 */
export const MAX_CANDIDATE_KEYS = 3;

const REVOCATION_RETRY_AFTER_SEC = 5;

/**
 * Adapters' entry to {@link TokenVerifier.authenticateNow}: not on the public `Verifier`
 * interface, so a user's own verifier object simply takes the promise path.
 */
export const authenticateNow: unique symbol = Symbol("meishi.authenticateNow");

/** The identity now when the verified-token cache answers; otherwise the full (async) path. */
export type AuthenticateNow = (
  request: TokenRequest,
  options: AuthenticateOptions,
) => Identity | undefined | Promise<Identity | undefined>;

/**
 * The verified-token cache's key: a 30-bit FNV-1a hash of the token's last characters, which
 * are its signature's. A Map lookup by the whole token hashes it first, about a microsecond for
 * a 600-character token that arrives as a new string with every request, most of a cache hit;
 * even a 32-character slice costs an allocation and ~150 ns. A small integer is hashed for free.
 * Only verified tokens are stored, each with its full text, which a hit compares: a token that
 * shares the key (by chance, or forged around a cached signature) misses and is verified in
 * full, and two live tokens sharing a key only take turns in the cache.
 */
function cacheKey(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, token.length - CACHE_KEY_CHARS); i < token.length; i++) {
    hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  }
  return hash >>> 2;
}
const CACHE_KEY_CHARS = 12;

interface CachedVerification {
  identity: Identity;
  issuer: ResolvedIssuer;
  keyVersion: number;
  expMs: number;
  /** `iat` in ms, or NaN when the token has none (only read with maxTokenAgeSec, which requires it). */
  iatMs: number;
  /** Heap the entry keeps alive, roughly: what the cache's byte bound counts. */
  bytes: number;
  /** What the revocation store is asked, built on the first request that needs it. */
  revocationQuery?: RevocationQuery;
}

/** The store's query for an identity; a cached one keeps its own, built once. */
function revocationQueryFor(identity: Identity, cached: CachedVerification | undefined) {
  if (cached === undefined) return revocationQuery(identity);
  cached.revocationQuery ??= revocationQuery(identity);
  return cached.revocationQuery;
}

interface VerifiedParts {
  payload: AuthClaims;
  protectedHeader: JWTHeaderParameters;
}

/**
 * A key set's `getKey` resolves one key; several candidates come back as jose's iterable error.
 * Only a token without `kid` tries them: two published keys sharing a `kid` are the
 * publisher's mistake, refused rather than guessed.
 */
async function verifyWithCandidates(
  token: string,
  issuer: ResolvedIssuer,
  hasKid: boolean,
): Promise<VerifiedParts> {
  try {
    return await jwtVerify<AuthClaims>(token, issuer.resolveKey, issuer.jwtVerifyOptions);
  } catch (error) {
    if (hasKid || !(error instanceof joseErrors.JWKSMultipleMatchingKeys)) throw error;
    let tried = 0;
    for await (const key of error as unknown as AsyncIterable<VerificationKey>) {
      if (tried++ >= MAX_CANDIDATE_KEYS) break;
      try {
        return await jwtVerify<AuthClaims>(token, key, issuer.jwtVerifyOptions);
      } catch (inner) {
        if (inner instanceof joseErrors.JWSSignatureVerificationFailed) continue;
        throw inner;
      }
    }
    throw withoutStackCapture(() => new joseErrors.JWSSignatureVerificationFailed());
  }
}

// `{"alg":"none"}`: the header of the unsecured JWT whose claims jose checks after the
// signature was checked here (see verifyOnThisRuntime).
const NONE_HEADER = base64url.encode('{"alg":"none"}');
const noneHeadersByTyp = new Map<string, string>();
const MAX_TYP_HEADERS = 32;

function noneHeaderFor(typ: unknown, typChecked: boolean): string {
  if (!typChecked || typeof typ !== "string") return NONE_HEADER;
  let header = noneHeadersByTyp.get(typ);
  if (header === undefined) {
    header = base64url.encode(JSON.stringify({ alg: "none", typ }));
    // Attacker-chosen typ values must not grow the map without bound.
    if (noneHeadersByTyp.size < MAX_TYP_HEADERS) noneHeadersByTyp.set(typ, header);
  }
  return header;
}

/**
 * The signature check with the runtime's fastest primitive (Node's one-shot `crypto.verify`),
 * with jose still choosing the key and having the last word on the claims. Anything out of the
 * ordinary (a `crit` header, several candidate keys, base64url of impossible length) returns
 * `undefined` and takes jose's path, so both paths give the same answer for every token.
 * Synchronous when the key source already holds the key, which is the common case.
 */
function verifyOnThisRuntime(
  token: string,
  header: JWTHeaderParameters,
  issuer: ResolvedIssuer,
  now: number,
): VerifiedParts | undefined | Promise<VerifiedParts | undefined> {
  if (platform.verifySignature === undefined || Object.hasOwn(header, "crit")) return undefined;
  const firstDot = token.indexOf(".");
  const secondDot = token.indexOf(".", firstDot + 1);
  const payloadPart = token.slice(firstDot + 1, secondDot);
  const signaturePart = token.slice(secondDot + 1);
  if (payloadPart.length % 4 === 1 || signaturePart.length % 4 === 1) return undefined;
  const known = issuer.keyNow?.(header, now);
  if (known !== undefined) return checkSignature(token, header, issuer, known, secondDot);
  return issuer
    .resolveKey(header, {
      protected: token.slice(0, firstDot),
      payload: payloadPart,
      signature: signaturePart,
    })
    .then(
      (key) => checkSignature(token, header, issuer, key, secondDot),
      (error: unknown) => {
        if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return undefined;
        throw error;
      },
    );
}

function checkSignature(
  token: string,
  header: JWTHeaderParameters,
  issuer: ResolvedIssuer,
  key: VerificationKey,
  secondDot: number,
): VerifiedParts | undefined {
  const valid = (platform.verifySignature as NonNullable<typeof platform.verifySignature>)(
    header.alg as string,
    key,
    token.slice(0, secondDot),
    token.slice(secondDot + 1),
  );
  if (valid === undefined) return undefined;
  if (!valid) throw withoutStackCapture(() => new joseErrors.JWSSignatureVerificationFailed());
  const payloadPart = token.slice(token.indexOf(".") + 1, secondDot);
  const options = issuer.jwtVerifyOptions;
  const claims = platform.decodeJsonSegment?.(payloadPart);
  if (claims !== undefined && claimsPassAsJoseWould(header, claims, options)) {
    return { payload: claims as AuthClaims, protectedHeader: header };
  }
  // jose's own decoding and claim validation, for its exact refusal (or its acceptance).
  const { payload } = withoutStackCapture(() =>
    UnsecuredJWT.decode(
      `${noneHeaderFor(header.typ, options.typ !== undefined)}.${payloadPart}.`,
      options,
    ),
  );
  return { payload: payload as AuthClaims, protectedHeader: header };
}

class TokenVerifier implements Verifier {
  readonly #options: ResolvedOptions;
  readonly #cache: LRUCache<number, CachedVerification> | undefined;
  readonly #origin: IdentityOrigin;
  readonly #issuers: readonly ResolvedIssuer[];
  /** Set when DPoP or resource metadata changes the challenges; else errors go out as built. */
  readonly #challenge: ChallengeContext | undefined;
  readonly #dpop: DpopRequestChecker | undefined;
  readonly realm: string;
  readonly resourceMetadata: ResourceMetadata | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.realm = options.realm;
    this.resourceMetadata = options.resourceMetadata;
    const { dpop } = options;
    this.#dpop = dpop === undefined ? undefined : new DpopRequestChecker(dpop, options.realm);
    this.#challenge =
      dpop === undefined && options.resourceMetadata === undefined
        ? undefined
        : {
            ...(dpop === undefined ? {} : { dpop: { mode: dpop.mode, algs: dpop.algorithms } }),
            resourceMetadata: options.resourceMetadata?.url,
          };
    this.#issuers = options.single ? [options.single] : [...options.byIssuer.values()];
    const report = (error: AuthError, log?: DiagnosticLogger) => this.#report(error, log);
    const { max, maxBytes } = options.verifiedTokenCache;
    this.#cache =
      max > 0 && maxBytes > 0
        ? new LRUCache<number, CachedVerification>({
            max,
            // Bounded by what entries really hold (parsed claims, identity, token), measured
            // when each is built: large tokens with many claims cost many times their length.
            maxSize: maxBytes,
            sizeCalculation: (entry) => entry.bytes,
          })
        : undefined;
    this.#origin = Object.freeze({
      realm: options.realm,
      report,
      rolePaths: options.single?.rolePaths ?? [["role"]],
      authorize: (identity: Identity, rules: readonly AuthRule[], log?: DiagnosticLogger) =>
        this.authorize(identity, rules, log === undefined ? {} : { log }),
    });
  }

  async ready(): Promise<void> {
    await Promise.all([
      ...this.#issuers.map((issuer) => issuer.keySource.ready()),
      this.#options.revocation?.ready?.(),
    ]);
  }

  authorize(
    identity: Identity | undefined | null,
    rules: readonly AuthRule[],
    options: { log?: DiagnosticLogger } = {},
  ): void {
    try {
      if (identity === undefined || identity === null) {
        this.#reject(new MissingTokenError({ realm: this.realm }), options.log);
      }
      authorize(identity, rules, { realm: this.realm, log: options.log });
    } catch (error) {
      throw this.#restate(error, identity ?? undefined);
    }
  }

  /** The refusal with DPoP challenges and the metadata link, when configured. */
  #restate(error: unknown, identity?: Identity, scheme?: Credentials["scheme"]): unknown {
    const context = this.#challenge;
    if (context === undefined || !isAuthError(error)) return error;
    // A bound token only ever passes with the DPoP scheme.
    const usedScheme =
      scheme ??
      (identity !== undefined && boundThumbprint(identity) !== undefined ? "dpop" : undefined);
    return restateChallenge(error, { ...context, usedScheme });
  }

  authenticate(
    request: TokenRequest,
    options?: AuthenticateOptions & { optional?: false },
  ): Promise<Identity>;
  authenticate(request: TokenRequest, options: AuthenticateOptions): Promise<Identity | undefined>;
  async authenticate(
    request: TokenRequest,
    options: AuthenticateOptions = {},
  ): Promise<Identity | undefined> {
    if (this.#challenge === undefined) return this.#authenticate(request, options, {});
    const seen: { scheme?: Credentials["scheme"] } = {};
    try {
      return await this.#authenticate(request, options, seen);
    } catch (error) {
      throw this.#restate(error, undefined, seen.scheme);
    }
  }

  async #authenticate(
    request: TokenRequest,
    options: AuthenticateOptions,
    seen: { scheme?: Credentials["scheme"] },
  ): Promise<Identity | undefined> {
    let credentials: Credentials | undefined;
    if (options.getToken !== undefined) {
      // A throwing getToken is a bug in the application, not a bad token: it propagates as is
      // (an AuthError it throws on purpose is still answered as one).
      try {
        const token = await options.getToken();
        if (token !== undefined) credentials = { token, scheme: "bearer" };
      } catch (error) {
        if (isAuthError(error)) this.#reject(error, options.log);
        throw error;
      }
    } else {
      try {
        credentials = findCredentials(request, this.#options.tokenSource, this.#dpop !== undefined);
      } catch (error) {
        this.#reject(toAuthError(error, this.realm), options.log);
      }
    }
    if (credentials === undefined || credentials.token === "") {
      if (options.optional === true) return undefined;
      this.#reject(new MissingTokenError({ realm: this.realm }), options.log);
    }
    seen.scheme = credentials.scheme;
    const identity = await this.verify(credentials.token, options);
    // The proof is checked on every request, after the token (cached or not) has passed.
    if (this.#dpop !== undefined) {
      try {
        await this.#dpop.check(
          request,
          credentials.token,
          credentials.scheme,
          identity,
          options.setHeader,
        );
      } catch (error) {
        if (isAuthError(error)) this.#reject(error, options.log);
        throw error;
      }
    }
    return identity;
  }

  /**
   * The hot path: a token the verified-token cache knows is answered synchronously, with no
   * promise, microtask or allocation beyond the extraction; everything else (no token, a bad
   * header, a cache miss, an asynchronous revocation answer, a listener to report success to)
   * goes through {@link authenticate}, which gives the same answer and the same refusals.
   */
  readonly [authenticateNow]: AuthenticateNow = (request, options) => {
    // DPoP proofs are checked on every request, so DPoP takes the full path.
    if (
      options.getToken !== undefined ||
      this.#options.reportsSuccess ||
      this.#dpop !== undefined
    ) {
      return this.authenticate(request, options);
    }
    const token = peekBearerToken(request, this.#options.tokenSource);
    const entry = token === undefined ? undefined : this.#fromCache(token);
    if (entry === undefined) return this.authenticate(request, options);
    const identity = entry.identity;
    const pending = this.#revocationCheck(identity, options.log, entry);
    if (pending === false) return identity;
    const checked = pending.then(() => identity);
    return this.#challenge === undefined
      ? checked
      : checked.catch((error: unknown) => {
          throw this.#restate(error, identity);
        });
  };

  /**
   * Asks each revocation check once. `false` when none is configured or every answer was a
   * synchronous `false`, the common case, which then costs no promise or microtask; otherwise
   * (true, a promise, a throw) a promise finished by `#checkRevocation` with the same
   * deadline and refusals.
   */
  #revocationCheck(
    identity: Identity,
    log: DiagnosticLogger | undefined,
    cached?: CachedVerification,
  ): false | Promise<void> {
    const { isRevoked, revocation } = this.#options;
    if (isRevoked === undefined && revocation === undefined) return false;
    let hookAnswer: boolean | Promise<boolean> = false;
    let storeAnswer: boolean | Promise<boolean> = false;
    try {
      if (isRevoked !== undefined) hookAnswer = isRevoked(identity);
    } catch (error) {
      hookAnswer = Promise.reject(error);
    }
    if (hookAnswer === false && revocation !== undefined) {
      try {
        storeAnswer = revocation.isRevoked(revocationQueryFor(identity, cached));
      } catch (error) {
        storeAnswer = Promise.reject(error);
      }
    }
    if (hookAnswer === false && storeAnswer === false) return false;
    return this.#checkRevocation(
      identity,
      cached,
      log,
      hookAnswer !== false ? hookAnswer : storeAnswer,
      hookAnswer !== false,
    );
  }

  async verify(token: string, options: { log?: DiagnosticLogger } = {}): Promise<Identity> {
    const started = this.#options.reportsSuccess ? performance.now() : 0;
    let identity: Identity;
    let issuer: ResolvedIssuer | undefined;
    const cached = this.#fromCache(token);
    try {
      if (cached !== undefined) identity = cached.identity;
      else {
        issuer = this.#issuerFor(token);
        const verified = this.#verifyFully(token, issuer);
        identity = verified instanceof Promise ? await verified : verified;
      }
    } catch (error) {
      if (error instanceof ConfigurationError) throw error;
      this.#reject(toAuthError(error, this.realm, issuer?.expected), options.log);
    }
    const pendingRevocation = this.#revocationCheck(identity, options.log, cached);
    if (pendingRevocation !== false) await pendingRevocation;
    if (this.#options.reportsSuccess) {
      this.#options.onEvent({
        type: "token_verified",
        issuer: identity.issuer,
        cached: cached !== undefined,
        durationMs: performance.now() - started,
      });
    }
    return identity;
  }

  #report(error: AuthError, log: DiagnosticLogger | undefined): void {
    const listener = this.#options.onEvent;
    listener({ type: "token_rejected", reason: error.reason, status: error.status, error });
    this.#options.diagnostics.refused(error, log);
  }

  #reject(error: AuthError, log?: DiagnosticLogger): never {
    this.#report(error, log);
    throw error;
  }

  #fromCache(token: string): CachedVerification | undefined {
    const cache = this.#cache;
    if (cache === undefined) return undefined;
    const cached = cache.get(cacheKey(token));
    // The key is only the signature's tail: the whole token must match too.
    if (cached === undefined || cached.identity.token !== token) return undefined;
    const now = Date.now();
    const { issuer } = cached;
    const tolerance = issuer.clockToleranceSec * 1000;
    if (
      now >= cached.expMs + tolerance ||
      (issuer.maxTokenAgeSec !== undefined &&
        now - cached.iatMs > issuer.maxTokenAgeSec * 1000 + tolerance) ||
      // touch() keeps refreshing the keys under steady cache hits, and says when they are past
      // their max age: a key the issuer removed must stop passing within that time.
      issuer.keySource.touch?.(now) === false ||
      issuer.keySource.version !== cached.keyVersion
    ) {
      cache.delete(cacheKey(token));
      return undefined;
    }
    return cached;
  }

  #issuerFor(token: string): ResolvedIssuer {
    if (this.#options.single) return this.#options.single;
    // Routing by the unverified `iss` is safe because it only picks among configured issuers;
    // the signature is then checked with that issuer's keys. Nothing is fetched for an unknown one.
    if (!COMPACT_JWS.test(token))
      throw this.#invalid("malformed_token", "structure", "not a compact JWS");
    const iss = ownClaim(decodeJwt(token), "iss");
    const issuer = typeof iss === "string" ? this.#options.byIssuer.get(iss) : undefined;
    if (issuer === undefined) {
      throw this.#invalid(
        "issuer_not_allowed",
        "iss",
        "the token's iss is not among the configured issuers",
      );
    }
    return issuer;
  }

  #invalid(
    reason: Parameters<typeof descriptionFor>[0],
    check: string,
    message: string,
  ): InvalidTokenError {
    return new InvalidTokenError({
      realm: this.realm,
      reason,
      description: descriptionFor(reason),
      details: { check, message },
    });
  }

  /** Synchronous when the key is at hand; a promise when it must be fetched or chosen by jose. */
  #verifyFully(token: string, issuer: ResolvedIssuer): Identity | Promise<Identity> {
    if (token.length > (this.#options.tokenSource.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES)) {
      throw this.#invalid("token_too_large", "size", `the token has ${token.length} characters`);
    }
    if (!COMPACT_JWS.test(token)) {
      throw this.#invalid("malformed_token", "structure", "not three base64url segments");
    }
    // Refuse a disallowed `alg` before any key lookup, so `none` or HS256 tokens never cause a
    // JWKS fetch (RFC 8725 §3.1).
    const header =
      platform.decodeJsonSegment?.(token.slice(0, token.indexOf("."))) ??
      withoutStackCapture(() => decodeProtectedHeader(token));
    const alg = ownClaim(header, "alg");
    if (typeof alg !== "string" || !issuer.algorithms.includes(alg)) {
      throw new InvalidTokenError({
        realm: this.realm,
        reason: "alg_not_allowed",
        details: {
          check: "alg",
          expected: issuer.algorithms,
          actual: typeof alg === "string" && alg.length <= 32 ? alg : typeof alg,
          message: `alg ${typeof alg === "string" && alg.length <= 32 ? JSON.stringify(alg) : "(not a short string)"} is not in the allow-list`,
        },
      });
    }
    // RFC 7797 §7: JWTs never use the unencoded payload. jose reads `b64` only when `crit` lists
    // it, so a stray `b64` would otherwise be ignored rather than refused.
    if (Object.hasOwn(header, "b64")) {
      throw this.#invalid("unsupported_header", "b64", "the header has b64, which JWTs never use");
    }
    // Bounded before any lookup, event or cache: a kid is attacker text.
    const kid = ownClaim(header, "kid");
    if (!isAcceptableKid(kid)) {
      throw this.#invalid("kid_invalid", "kid", "the kid is not short printable text");
    }
    const keyVersion = issuer.keySource.version;
    const verified = verifyOnThisRuntime(token, header as JWTHeaderParameters, issuer, Date.now());
    if (verified === undefined || verified instanceof Promise) {
      return (async () => {
        const parts =
          (await verified) ?? (await verifyWithCandidates(token, issuer, kid !== undefined));
        return this.#accept(token, issuer, parts, keyVersion);
      })();
    }
    return this.#accept(token, issuer, verified, keyVersion);
  }

  /** The checks jose does not make, then the identity, cached. */
  #accept(
    token: string,
    issuer: ResolvedIssuer,
    { payload, protectedHeader }: VerifiedParts,
    keyVersion: number,
  ): Identity {
    // jose tests claims with `in` and plain reads, which a polluted Object.prototype would
    // satisfy; what we require must be the token's own.
    for (const claim of issuer.ownClaims) {
      if (!Object.hasOwn(payload, claim)) {
        throw this.#invalid("claim_missing", claim, `the token has no "${claim}" claim`);
      }
    }
    for (const [name, allowed] of issuer.claimValues) {
      const actual = ownClaim(payload, name);
      if (!allowed.includes(actual as ClaimValue)) {
        throw new InvalidTokenError({
          realm: this.realm,
          reason: "claim_invalid",
          details: {
            check: name,
            expected: allowed.length === 1 ? allowed[0] : allowed,
            message: `claim "${name}" must be ${allowed.map((value) => JSON.stringify(value)).join(" or ")}`,
          },
        });
      }
    }
    // RFC 7519 §4.1.2: `sub` is a string; jose only checks it when a subject is expected.
    if (Object.hasOwn(payload, "sub") && typeof payload.sub !== "string") {
      throw this.#invalid("claim_invalid", "sub", "sub is not a string");
    }
    const nowSec = Date.now() / 1000;
    // jose checks `iat` only against maxTokenAge; a token minted in the future is refused here.
    const iat = ownClaim(payload, "iat");
    if (typeof iat === "number" && iat > nowSec + issuer.clockToleranceSec) {
      throw this.#invalid(
        "token_issued_in_future",
        "iat",
        `iat is ${Math.round(iat - nowSec)} s in the future`,
      );
    }
    const origin =
      issuer === this.#options.single
        ? this.#origin
        : { ...this.#origin, rolePaths: issuer.rolePaths };
    const { identity, retainedBytes } = createIdentity(token, payload, protectedHeader, origin);
    // A refresh during verification may have brought new keys; cache only under the version
    // the token was checked against, so a removed key is never trusted from the cache. Before
    // the first load (version 0) there was no older set to have used.
    const versionNow = issuer.keySource.version;
    if (this.#cache !== undefined && (versionNow === keyVersion || keyVersion === 0)) {
      this.#cache.set(cacheKey(token), {
        identity,
        issuer,
        keyVersion: versionNow,
        expMs: (payload.exp ?? 0) * 1000,
        iatMs: typeof iat === "number" ? iat * 1000 : Number.NaN,
        bytes: retainedBytes + token.length,
      });
    }
    return identity;
  }

  /**
   * Finishes the revocation checks with their deadline. `firstAnswer` is the answer already
   * asked for by `#revocationCheck`: from the hook when `fromHook` (the store is then
   * asked only if the hook says no), else from the store.
   */
  async #checkRevocation(
    identity: Identity,
    cached: CachedVerification | undefined,
    log: DiagnosticLogger | undefined,
    firstAnswer: boolean | Promise<boolean>,
    fromHook: boolean,
  ): Promise<void> {
    const { revocation, revocationTimeoutMs } = this.#options;
    let revoked = false;
    try {
      if (fromHook) revoked = await withinDeadline(firstAnswer, revocationTimeoutMs);
      if (!revoked && revocation !== undefined) {
        const answer = fromHook
          ? revocation.isRevoked(revocationQueryFor(identity, cached))
          : firstAnswer;
        revoked = await withinDeadline(answer, revocationTimeoutMs);
      }
    } catch (error) {
      const retryAfter = (error as { retryAfterSec?: unknown } | null)?.retryAfterSec;
      this.#reject(
        new ServiceUnavailableError({
          reason: "revocation_unavailable",
          description: "The service cannot check tokens right now",
          cause: error,
          retryAfterSec: typeof retryAfter === "number" ? retryAfter : REVOCATION_RETRY_AFTER_SEC,
        }),
        log,
      );
    }
    if (revoked) {
      const jti = ownClaim(identity.claims, "jti");
      this.#options.onEvent({
        type: "token_revoked",
        issuer: identity.issuer,
        jti: typeof jti === "string" ? jti : undefined,
      });
      this.#reject(
        new InvalidTokenError({
          realm: this.realm,
          reason: "token_revoked",
          description: descriptionFor("token_revoked"),
          details: { check: "revocation", message: "the token was revoked" },
        }),
        log,
      );
    }
  }
}

/** The identity fields a revocation store may key on: never the token text. */
function revocationQuery(identity: Identity): RevocationQuery {
  const claims = identity.claims;
  const text = (name: string) => {
    const value = ownClaim(claims, name);
    return typeof value === "string" ? value : undefined;
  };
  const iat = ownClaim(claims, "iat");
  return {
    issuer: identity.issuer,
    jti: text("jti"),
    sub: identity.sub,
    sid: text("sid"),
    issuedAt: typeof iat === "number" ? iat : undefined,
    expiresAt: (ownClaim(claims, "exp") as number | undefined) ?? 0,
  };
}

class RevocationTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no revocation answer within ${timeoutMs} ms`);
    this.name = "RevocationTimeout";
  }
}

/** A synchronous answer costs nothing; a promise races a timer that is always cleared. */
function withinDeadline(
  answer: boolean | Promise<boolean>,
  timeoutMs: number,
): boolean | Promise<boolean> {
  if (typeof answer === "boolean") return answer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RevocationTimeout(timeoutMs)), timeoutMs);
  });
  return Promise.race([Promise.resolve(answer).then((value) => value === true), deadline]).finally(
    () => clearTimeout(timer),
  );
}

/**
 * Creates a verifier. Call it once at start-up; it validates options immediately.
 *
 * The one-argument form `createVerifier(jwksUri)` checks signature, algorithm and expiry only,
 * and says so once in a process warning. The options form requires `issuer` and `audience`;
 * skipping either takes an explicit `null`.
 *
 * @throws {ConfigurationError} for a bad option (never at request time).
 * @example
 * const verifier = createVerifier({
 *   jwksUri: "https://auth.example.com/.well-known/jwks.json",
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 * });
 * const identity = await verifier.verify(token);
 */
export function createVerifier<Claims extends JWTPayload = AuthClaims>(
  options: string | URL | VerifierOptions,
): Verifier<Claims> {
  return createVerifierFor<Claims>(options, { caller: "createVerifier()", adapterKeys: [] });
}

/**
 * {@link createVerifier} for adapters: configuration errors name the adapter's call, and the
 * adapter's own option names are not refused as unknown.
 */
export function createVerifierFor<Claims extends JWTPayload = AuthClaims>(
  options: string | URL | VerifierOptions,
  context: VerifierContext,
): Verifier<Claims> {
  if (typeof options === "string" || options instanceof URL) {
    const jwksUri = String(options);
    const verifier = new TokenVerifier(
      resolveOptions({ jwksUri, issuer: null, audience: null }, context),
    );
    warnShorthand(jwksUri);
    return verifier as unknown as Verifier<Claims>;
  }
  if (options === undefined || options === null) {
    throw new ConfigurationError(
      `${context.caller}: needs options: { jwksUri, issuer, audience } (or a JWKS URL string)`,
    );
  }
  return new TokenVerifier(resolveOptions(options, context)) as unknown as Verifier<Claims>;
}
