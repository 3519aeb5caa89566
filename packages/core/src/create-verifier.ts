import {
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import { LRUCache } from "lru-cache";
import {
  type AuthError,
  ConfigurationError,
  InvalidTokenError,
  isAuthError,
  MissingTokenError,
  type RejectReason,
  ServiceUnavailableError,
} from "./errors.js";
import type { DiagnosticLogger } from "./diagnostics.js";
import { safeEmit } from "./events.js";
import { DEFAULT_MAX_TOKEN_BYTES, findToken, type TokenRequest } from "./extract-token.js";
import { type AuthClaims, createIdentity, type Identity, type IdentityOrigin } from "./identity.js";
import {
  type ResolvedIssuer,
  type ResolvedOptions,
  resolveOptions,
  type VerifierOptions,
} from "./options.js";
import { type AuthRule, authorize } from "./rules.js";

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
}

/** Who is building a verifier, so a configuration error can name the user's own call. */
export interface VerifierContext {
  /** The user's call, e.g. `jwtAuth()` from @meishi/express. */
  readonly caller: string;
  /** Option names the caller adds on top of the verifier's own (optional, getToken, …). */
  readonly adapterKeys: readonly string[];
}

/** Verifies bearer tokens. Create one per application, at start-up, and share it. */
export interface Verifier<Claims extends JWTPayload = AuthClaims> {
  /**
   * Verifies a token: structure, algorithm, key, signature, `exp`/`nbf`/`iat`, issuer,
   * audience, `typ`, required claims, revocation.
   * @throws {InvalidTokenError} 401 for any token problem.
   * @throws {ServiceUnavailableError} 503 when keys or the revocation store cannot be had.
   */
  verify(token: string): Promise<Identity<Claims>>;
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
   * @throws {InsufficientScopeError} 403 when a rule fails.
   */
  authorize(identity: Identity | undefined | null, rules: readonly AuthRule[]): void;
  /** Loads every key source; resolves when tokens can be verified (use it for readiness). */
  ready(): Promise<void>;
  /** The challenge realm. */
  readonly realm: string;
}

const warnedShorthands = new Set<string>();

function warnShorthand(jwksUri: string): void {
  if (warnedShorthands.has(jwksUri)) return;
  warnedShorthands.add(jwksUri);
  process.emitWarning(
    `meishi: verifying tokens against ${jwksUri} WITHOUT checking issuer or audience. ` +
      "Any token signed by these keys is accepted, including ones meant for other APIs. " +
      "Pass { jwksUri, issuer, audience } to check them.",
    { code: "MEISHI_UNCHECKED_CLAIMS" },
  );
}

const CLAIM_REASONS: Readonly<Record<string, RejectReason>> = {
  iss: "issuer_mismatch",
  aud: "audience_mismatch",
  nbf: "token_not_yet_valid",
  iat: "token_issued_in_future",
  typ: "typ_mismatch",
  exp: "claim_invalid",
};

function descriptionFor(reason: RejectReason): string {
  switch (reason) {
    case "token_expired":
      return "The access token expired";
    case "token_not_yet_valid":
      return "The access token is not valid yet";
    case "token_too_large":
      return "The access token is too large";
    case "malformed_token":
      return "The access token is malformed";
    case "token_revoked":
      return "The access token was revoked";
    default:
      return "The access token is invalid";
  }
}

function reasonForJoseError(error: joseErrors.JOSEError): RejectReason {
  switch (error.code) {
    case joseErrors.JWTExpired.code: {
      const claim = (error as joseErrors.JWTExpired).claim;
      return claim === "iat" ? "token_too_old" : "token_expired";
    }
    case joseErrors.JWTClaimValidationFailed.code: {
      const failed = error as joseErrors.JWTClaimValidationFailed;
      if (failed.reason === "missing") return "claim_missing";
      if (failed.reason === "invalid") return "claim_invalid";
      return CLAIM_REASONS[failed.claim] ?? "claim_invalid";
    }
    case joseErrors.JWSSignatureVerificationFailed.code:
      return "signature_invalid";
    case joseErrors.JOSEAlgNotAllowed.code:
      return "alg_not_allowed";
    case joseErrors.JOSENotSupported.code:
      return "unsupported_header";
    case joseErrors.JWKSNoMatchingKey.code:
      return "unknown_kid";
    case joseErrors.JWKSMultipleMatchingKeys.code:
      return "ambiguous_key";
    default:
      return "malformed_token";
  }
}

/**
 * Turns anything thrown while verifying into the meishi hierarchy: jose's token errors become
 * 401 `invalid_token` with a generic description, the original kept as `cause`. A token is
 * attacker input, so even an unexpected error from parsing it (a TypeError from a strange
 * header) is a refusal of that token, never a 500.
 */
export function toAuthError(error: unknown, realm = "api"): AuthError {
  if (isAuthError(error)) return error;
  const reason =
    error instanceof joseErrors.JOSEError ? reasonForJoseError(error) : "malformed_token";
  return new InvalidTokenError({
    realm,
    reason,
    description: descriptionFor(reason),
    cause: error,
  });
}

// Three base64url segments; anything else is refused before any parsing or key lookup.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const VERIFIED_CACHE_MAX_BYTES = 8 * 1024 * 1024;
const VERIFIED_ENTRY_OVERHEAD_BYTES = 1024;

interface CachedVerification {
  identity: Identity;
  issuer: ResolvedIssuer;
  keyVersion: number;
  expMs: number;
}

class TokenVerifier implements Verifier {
  readonly #options: ResolvedOptions;
  readonly #cache: LRUCache<string, CachedVerification> | undefined;
  readonly #origin: IdentityOrigin;
  readonly realm: string;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.realm = options.realm;
    this.#origin = Object.freeze({ realm: options.realm, onEvent: options.onEvent });
    this.#cache =
      options.verifiedTokenCacheMax > 0
        ? new LRUCache({
            max: options.verifiedTokenCacheMax,
            // Tokens may be up to 16 KiB each, so entries are also bounded by bytes.
            maxSize: VERIFIED_CACHE_MAX_BYTES,
            sizeCalculation: (_entry, token) => token.length + VERIFIED_ENTRY_OVERHEAD_BYTES,
          })
        : undefined;
  }

  async ready(): Promise<void> {
    const issuers = this.#options.single
      ? [this.#options.single]
      : [...this.#options.byIssuer.values()];
    await Promise.all(issuers.map((issuer) => issuer.keySource.ready()));
  }

  authorize(identity: Identity | undefined | null, rules: readonly AuthRule[]): void {
    if (identity === undefined || identity === null) {
      this.#reject(new MissingTokenError({ realm: this.realm }));
    }
    authorize(identity, rules, { realm: this.realm });
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
    let token: string | undefined;
    if (options.getToken !== undefined) {
      // A throwing getToken is a bug in the application, not a bad token: it propagates as is
      // (an AuthError it throws on purpose is still answered as one).
      try {
        token = await options.getToken();
      } catch (error) {
        if (isAuthError(error)) this.#reject(error);
        throw error;
      }
    } else {
      try {
        token = findToken(request, this.#options.tokenSource);
      } catch (error) {
        this.#reject(toAuthError(error, this.realm));
      }
    }
    if (token === undefined || token === "") {
      if (options.optional === true) return undefined;
      this.#reject(new MissingTokenError({ realm: this.realm }));
    }
    return this.verify(token);
  }

  async verify(token: string): Promise<Identity> {
    let identity: Identity;
    try {
      identity = this.#fromCache(token) ?? (await this.#verifyFully(token));
    } catch (error) {
      if (error instanceof ConfigurationError) throw error;
      this.#reject(toAuthError(error, this.realm));
    }
    if (this.#options.isRevoked !== undefined) await this.#checkRevocation(identity);
    return identity;
  }

  #reject(error: AuthError): never {
    safeEmit(this.#options.onEvent, {
      type: "token_rejected",
      reason: error.reason,
      status: error.status,
      error,
    });
    throw error;
  }

  #fromCache(token: string): Identity | undefined {
    const cached = this.#cache?.get(token);
    if (cached === undefined) return undefined;
    const now = Date.now();
    const tolerance = cached.issuer.clockToleranceSec * 1000;
    const tooOld =
      cached.issuer.maxTokenAgeSec !== undefined &&
      now - (cached.identity.claims.iat ?? 0) * 1000 >
        cached.issuer.maxTokenAgeSec * 1000 + tolerance;
    if (
      now >= cached.expMs + tolerance ||
      tooOld ||
      cached.issuer.keySource.version !== cached.keyVersion
    ) {
      this.#cache?.delete(token);
      return undefined;
    }
    return cached.identity;
  }

  #issuerFor(token: string): ResolvedIssuer {
    if (this.#options.single) return this.#options.single;
    // Routing by the unverified `iss` is safe because it only picks among configured issuers;
    // the signature is then checked with that issuer's keys. Nothing is fetched for an unknown one.
    const { iss } = decodeJwt(token);
    const issuer = typeof iss === "string" ? this.#options.byIssuer.get(iss) : undefined;
    if (issuer === undefined) {
      throw new InvalidTokenError({ realm: this.realm, reason: "issuer_not_allowed" });
    }
    return issuer;
  }

  async #verifyFully(token: string): Promise<Identity> {
    if (token.length > (this.#options.tokenSource.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES)) {
      throw new InvalidTokenError({
        realm: this.realm,
        reason: "token_too_large",
        description: descriptionFor("token_too_large"),
      });
    }
    if (!COMPACT_JWS.test(token)) {
      throw new InvalidTokenError({
        realm: this.realm,
        reason: "malformed_token",
        description: descriptionFor("malformed_token"),
      });
    }
    const issuer = this.#issuerFor(token);
    // Refuse a disallowed `alg` before any key lookup, so `none` or HS256 tokens never cause a
    // JWKS fetch (RFC 8725 §3.1).
    const header = decodeProtectedHeader(token);
    if (typeof header.alg !== "string" || !issuer.algorithms.includes(header.alg)) {
      throw new InvalidTokenError({ realm: this.realm, reason: "alg_not_allowed" });
    }
    // RFC 7797 §7: JWTs never use the unencoded payload. jose reads `b64` only when `crit` lists
    // it, so a stray `b64` would otherwise be ignored rather than refused.
    if (Object.hasOwn(header, "b64")) {
      throw new InvalidTokenError({ realm: this.realm, reason: "unsupported_header" });
    }
    const keyVersion = issuer.keySource.version;
    const { payload, protectedHeader } = await jwtVerify<AuthClaims>(
      token,
      issuer.keySource.getKey,
      issuer.jwtVerifyOptions,
    );
    // RFC 7519 §4.1.2: `sub` is a string; jose only checks it when a subject is expected.
    if (payload.sub !== undefined && typeof payload.sub !== "string") {
      throw new InvalidTokenError({ realm: this.realm, reason: "claim_invalid" });
    }
    const nowSec = Date.now() / 1000;
    // jose checks `iat` only against maxTokenAge; a token minted in the future is refused here.
    if (typeof payload.iat === "number" && payload.iat > nowSec + issuer.clockToleranceSec) {
      throw new InvalidTokenError({ realm: this.realm, reason: "token_issued_in_future" });
    }
    const identity = createIdentity(
      token,
      payload,
      protectedHeader,
      issuer.rolePaths,
      this.#origin,
    );
    const expMs = (payload.exp ?? 0) * 1000;
    // A refresh during verification may have brought new keys; cache only under the version
    // the token was checked against, so a removed key is never trusted from the cache.
    if (issuer.keySource.version === keyVersion) {
      this.#cache?.set(token, { identity, issuer, keyVersion, expMs });
    }
    return identity;
  }

  async #checkRevocation(identity: Identity): Promise<void> {
    const isRevoked = this.#options.isRevoked;
    if (isRevoked === undefined) return;
    let revoked: boolean;
    try {
      revoked = await isRevoked(identity);
    } catch (error) {
      this.#reject(
        new ServiceUnavailableError({
          reason: "revocation_unavailable",
          cause: error,
          retryAfterSec: 5,
        }),
      );
    }
    if (revoked) {
      this.#reject(
        new InvalidTokenError({
          realm: this.realm,
          reason: "token_revoked",
          description: descriptionFor("token_revoked"),
        }),
      );
    }
  }
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
  if (typeof options === "string" || options instanceof URL) {
    const jwksUri = String(options);
    const verifier = new TokenVerifier(resolveOptions({ jwksUri, issuer: null, audience: null }));
    warnShorthand(jwksUri);
    return verifier as unknown as Verifier<Claims>;
  }
  return new TokenVerifier(resolveOptions(options)) as unknown as Verifier<Claims>;
}

/**
 * {@link createVerifier} for adapters: configuration errors name the adapter's call, and the
 * adapter's own option names are not refused as unknown.
 */
export function createVerifierFor<Claims extends JWTPayload = AuthClaims>(
  options: string | URL | VerifierOptions,
  _context: VerifierContext,
): Verifier<Claims> {
  return createVerifier<Claims>(options);
}
