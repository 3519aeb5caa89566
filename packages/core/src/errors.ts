/**
 * The one error hierarchy every meishi adapter forwards to its framework.
 *
 * Each error already carries its HTTP `status`/`statusCode`, the `headers` to send
 * (`WWW-Authenticate` per RFC 6750 §3, `Retry-After` for 503) and `expose`, which is what
 * Express's finalhandler, Koa's `ctx.onerror` and Fastify's default error handler read.
 * So the right response comes out even when the application installs no error handler.
 *
 * `code` is the stable contract to branch on; `instanceof` is a convenience.
 */

/** Stable error codes. The first three are the RFC 6750 §3.1 codes sent on the wire. */
export type AuthErrorCode =
  | "invalid_request"
  | "invalid_token"
  | "insufficient_scope"
  | "missing_token"
  | "temporarily_unavailable"
  | "invalid_dpop_proof"
  | "use_dpop_nonce"
  | "insufficient_user_authentication";

/**
 * Machine-readable reason for a refusal, for logs and metrics. Never sent to clients:
 * they only see the generic `description`.
 */
export type RejectReason =
  | "missing_token"
  | "guard_without_authentication"
  | "unsupported_scheme"
  | "malformed_header"
  | "multiple_credentials"
  | "multiple_token_sources"
  | "token_too_large"
  | "malformed_token"
  | "alg_not_allowed"
  | "unsupported_header"
  | "unknown_kid"
  | "kid_invalid"
  | "ambiguous_key"
  | "signature_invalid"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_issued_in_future"
  | "token_too_old"
  | "issuer_mismatch"
  | "issuer_not_allowed"
  | "audience_mismatch"
  | "typ_mismatch"
  | "claim_missing"
  | "claim_invalid"
  | "token_revoked"
  | "role_missing"
  | "scope_missing"
  | "claim_check_failed"
  | "keys_unavailable"
  | "revocation_unavailable"
  | "dpop_proof_missing"
  | "dpop_proof_invalid"
  | "dpop_proof_replayed"
  | "dpop_nonce_required"
  | "dpop_key_mismatch"
  | "dpop_token_unbound"
  | "dpop_bound_token_as_bearer"
  | "dpop_required"
  | "dpop_replay_unavailable"
  | "acr_insufficient"
  | "auth_time_too_old";

/** The RFC 6750 JSON body an adapter's optional error handler renders. */
export interface AuthErrorBody {
  error: AuthErrorCode;
  error_description: string;
}

/**
 * What a refusal checked and found, for the developer's log: the check's name, the expected and
 * actual values where they explain it (`aud`, `iss`, `typ`, a role), and one sentence. Never
 * the token's other claims: claims are personal data.
 */
export interface RefusalDetails {
  /** The check that failed: a claim name (`aud`), `signature`, `kid`, `role`, … */
  readonly check: string;
  readonly expected?: unknown;
  readonly actual?: unknown;
  /** One sentence for a log line, e.g. `aud "api://x" ≠ expected "https://api"`. */
  readonly message: string;
}

/** Options shared by every {@link AuthError} constructor. */
export interface AuthErrorOptions {
  /** Why, for logs and metrics. */
  reason?: RejectReason | undefined;
  /** Client-safe text; a generic one per class is used when left out. */
  description?: string | undefined;
  /** The `realm` of the challenge. Default `"api"`. */
  realm?: string | undefined;
  /** The underlying error (a fetch failure, a payload-free jose error), kept for logs only. */
  cause?: unknown;
  /** What was checked and found, for logs only. */
  details?: RefusalDetails | undefined;
}

/**
 * Runs `build` with V8's stack capture off and returns what it built. A refusal is an answer,
 * not a bug: its call stack helps nobody, yet capturing one costs microseconds, and jose's errors
 * call `Error.captureStackTrace`, which Node 20's V8 formats at once: measured here, two thirds
 * of refusing a junk token (about 60 µs of 90). Only errors that become a refusal are built this
 * way; an unexpected error keeps its stack. Where the limit cannot be changed (frozen
 * intrinsics, an engine without it), `build` simply runs.
 */
export function withoutStackCapture<T>(build: () => T): T {
  const limit = pauseStackCapture();
  try {
    return build();
  } finally {
    resumeStackCapture(limit);
  }
}

/** The limit to restore, or `undefined` when it could not be changed. */
function pauseStackCapture(): number | undefined {
  const limit = Error.stackTraceLimit;
  if (typeof limit !== "number") return undefined;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return undefined;
  }
  return limit;
}

function resumeStackCapture(limit: number | undefined): void {
  if (limit !== undefined) Error.stackTraceLimit = limit;
}

const DEFAULT_REALM = "api";

// RFC 6750 §3: error_description and scope are quoted-strings restricted to %x20-21 / %x23-5B
// / %x5D-7E, so `"` and `\` cannot appear at all (escaping them is not allowed either).
function toChallengeValue(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "'");
}

/** Builds a `WWW-Authenticate` value for the Bearer scheme (RFC 6750 §3). */
export function buildChallenge(attributes: Readonly<Record<string, string | undefined>>): string {
  return schemeChallenge("Bearer", attributes);
}

type ChallengeAttributes = Readonly<Record<string, string | undefined>>;

function schemeChallenge(scheme: "Bearer" | "DPoP", attributes: ChallengeAttributes): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) parts.push(`${name}="${toChallengeValue(value)}"`);
  }
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(", ")}`;
}

/** The challenge an error was built with, so a verifier can restate it for DPoP or RFC 9728. */
interface Challenge {
  readonly scheme: "Bearer" | "DPoP";
  readonly attributes: ChallengeAttributes;
}

// Kept beside the error, not on it: the public shape of AuthError stays what it was.
const challenges = new WeakMap<AuthError, Challenge>();

function challengeHeaders(
  scheme: "Bearer" | "DPoP",
  attributes: ChallengeAttributes,
): { "WWW-Authenticate": string } {
  return { "WWW-Authenticate": schemeChallenge(scheme, attributes) };
}

function errorAttributes(
  realm: string | undefined,
  error: AuthErrorCode,
  description: string,
  extra: ChallengeAttributes = {},
): ChallengeAttributes {
  return { realm: realm ?? DEFAULT_REALM, error, error_description: description, ...extra };
}

/**
 * Base class of every refusal meishi produces. Abstract: throw one of the subclasses.
 */
export abstract class AuthError extends Error {
  /** Stable code: RFC 6750 error code, or `missing_token` / `temporarily_unavailable`. */
  abstract readonly code: AuthErrorCode;
  /** HTTP status to answer with. */
  readonly status: number;
  /** Same as `status`, for Fastify and other frameworks that read `statusCode`. */
  readonly statusCode: number;
  /** True for 4xx: the description is safe to show to the client. */
  readonly expose: boolean;
  /** Why the request was refused; for logs, never for clients. */
  readonly reason: RejectReason;
  /** Client-safe, generic description (also the `message`). */
  readonly description: string;
  /** Response headers to send: `WWW-Authenticate`, and `Retry-After` on 503. */
  readonly headers: Readonly<Record<string, string>>;
  /** What was checked and found, for logs; never sent to clients. */
  readonly details: RefusalDetails | undefined;

  protected constructor(
    status: number,
    reason: RejectReason,
    description: string,
    headers: Record<string, string>,
    cause: unknown,
    details: RefusalDetails | undefined,
  ) {
    // The stack is replaced below; capturing it first would only cost time.
    const limit = pauseStackCapture();
    try {
      super(description, cause === undefined ? undefined : { cause });
    } finally {
      resumeStackCapture(limit);
    }
    this.status = status;
    this.statusCode = status;
    this.expose = status < 500;
    this.reason = reason;
    this.description = description;
    this.headers = Object.freeze(headers);
    this.details = details === undefined ? undefined : Object.freeze({ ...details });
    // A refusal is an answer, not a bug: its call stack says nothing useful (the cause keeps
    // the detail), and some default handlers, such as Express's outside production, print
    // `stack` into the response body.
    Object.defineProperty(this, "stack", {
      value: `${this.name}: ${description}`,
      writable: true,
      configurable: true,
    });
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** The RFC 6750 JSON body: `{ error, error_description }`. */
  toJSON(): AuthErrorBody {
    return { error: this.code, error_description: this.description };
  }
}

/** 401 without error attributes: the request carried no bearer token (RFC 6750 §3.1). */
export class MissingTokenError extends AuthError {
  readonly code = "missing_token" as const;
  constructor(options: AuthErrorOptions = {}) {
    const description = options.description ?? "Authentication is required";
    super(
      401,
      options.reason ?? "missing_token",
      description,
      challengeHeaders("Bearer", { realm: options.realm ?? DEFAULT_REALM }),
      options.cause,
      options.details,
    );
    challenges.set(this, {
      scheme: "Bearer",
      attributes: { realm: options.realm ?? DEFAULT_REALM },
    });
  }
}

/** 400 `invalid_request`: a malformed Authorization header, two credentials or two token sources. */
export class InvalidRequestError extends AuthError {
  readonly code = "invalid_request" as const;
  constructor(options: AuthErrorOptions = {}) {
    const description = options.description ?? "The request is malformed";
    super(
      400,
      options.reason ?? "malformed_header",
      description,
      challengeHeaders("Bearer", errorAttributes(options.realm, "invalid_request", description)),
      options.cause,
      options.details,
    );
    challenges.set(this, {
      scheme: "Bearer",
      attributes: errorAttributes(options.realm, "invalid_request", description),
    });
  }
}

/** 401 `invalid_token`: expired, malformed, badly signed, or for someone else. */
export class InvalidTokenError extends AuthError {
  readonly code = "invalid_token" as const;
  constructor(options: AuthErrorOptions = {}) {
    const description = options.description ?? "The access token is invalid";
    super(
      401,
      options.reason ?? "malformed_token",
      description,
      challengeHeaders("Bearer", errorAttributes(options.realm, "invalid_token", description)),
      options.cause,
      options.details,
    );
    challenges.set(this, {
      scheme: "Bearer",
      attributes: errorAttributes(options.realm, "invalid_token", description),
    });
  }
}

/** Options of {@link InsufficientScopeError}. */
export interface InsufficientScopeErrorOptions extends AuthErrorOptions {
  /** Scopes that would have been enough, sent as the challenge's `scope` attribute. */
  scopes?: readonly string[] | undefined;
}

function scopeAttributes(
  options: InsufficientScopeErrorOptions,
  description: string,
): ChallengeAttributes {
  const scopes = options.scopes;
  return errorAttributes(options.realm, "insufficient_scope", description, {
    scope: scopes !== undefined && scopes.length > 0 ? scopes.join(" ") : undefined,
  });
}

/** 403 `insufficient_scope`: a valid token that lacks a required role, scope or claim. */
export class InsufficientScopeError extends AuthError {
  readonly code = "insufficient_scope" as const;
  constructor(options: InsufficientScopeErrorOptions = {}) {
    const description = options.description ?? "The access token does not grant this access";
    super(
      403,
      options.reason ?? "claim_check_failed",
      description,
      challengeHeaders("Bearer", scopeAttributes(options, description)),
      options.cause,
      options.details,
    );
    challenges.set(this, { scheme: "Bearer", attributes: scopeAttributes(options, description) });
  }
}

/** Options of {@link ServiceUnavailableError}. */
export interface ServiceUnavailableErrorOptions extends AuthErrorOptions {
  /** Seconds the client should wait, sent as `Retry-After`. Default 5. */
  retryAfterSec?: number | undefined;
}

/**
 * 503: the keys (or the revocation store) cannot be had and nothing usable is cached.
 * Not the client's fault, so never a 401.
 */
export class ServiceUnavailableError extends AuthError {
  readonly code = "temporarily_unavailable" as const;
  /** Seconds until a retry may succeed. */
  readonly retryAfterSec: number;
  constructor(options: ServiceUnavailableErrorOptions = {}) {
    const retryAfterSec = Math.max(1, Math.ceil(options.retryAfterSec ?? 5));
    super(
      503,
      options.reason ?? "keys_unavailable",
      options.description ?? "The service cannot verify tokens right now",
      { "Retry-After": String(retryAfterSec) },
      options.cause,
      options.details,
    );
    this.retryAfterSec = retryAfterSec;
  }
}

/** Options of {@link InvalidDpopProofError} and {@link UseDpopNonceError}. */
export interface DpopErrorOptions extends AuthErrorOptions {
  /** The proof algorithms the server accepts, sent as the DPoP challenge's `algs`. */
  algs?: readonly string[] | undefined;
}

function dpopAttributes(
  options: DpopErrorOptions,
  error: AuthErrorCode,
  description: string,
): ChallengeAttributes {
  const algs = options.algs;
  return errorAttributes(options.realm, error, description, {
    algs: algs !== undefined && algs.length > 0 ? algs.join(" ") : undefined,
  });
}

/** 401 `invalid_dpop_proof` (RFC 9449 §7.1): the DPoP proof is missing, malformed or wrong. */
export class InvalidDpopProofError extends AuthError {
  readonly code = "invalid_dpop_proof" as const;
  constructor(options: DpopErrorOptions = {}) {
    const description = options.description ?? "The DPoP proof is invalid";
    const attributes = dpopAttributes(options, "invalid_dpop_proof", description);
    super(
      401,
      options.reason ?? "dpop_proof_invalid",
      description,
      challengeHeaders("DPoP", attributes),
      options.cause,
      options.details,
    );
    challenges.set(this, { scheme: "DPoP", attributes });
  }
}

/** Options of {@link UseDpopNonceError}. */
export interface UseDpopNonceErrorOptions extends DpopErrorOptions {
  /** The nonce the client must put in its next proof, sent as the `DPoP-Nonce` header. */
  nonce: string;
}

/**
 * 401 `use_dpop_nonce` (RFC 9449 §9): the proof must carry the server's current nonce, which
 * this answer sends in `DPoP-Nonce`.
 */
export class UseDpopNonceError extends AuthError {
  readonly code = "use_dpop_nonce" as const;
  /** The nonce to use. */
  readonly nonce: string;
  constructor(options: UseDpopNonceErrorOptions) {
    const description = options.description ?? "The DPoP proof must carry the server's nonce";
    const attributes = dpopAttributes(options, "use_dpop_nonce", description);
    super(
      401,
      options.reason ?? "dpop_nonce_required",
      description,
      { ...challengeHeaders("DPoP", attributes), "DPoP-Nonce": options.nonce },
      options.cause,
      options.details,
    );
    this.nonce = options.nonce;
    challenges.set(this, { scheme: "DPoP", attributes });
  }
}

/** Options of {@link InsufficientUserAuthenticationError}. */
export interface InsufficientUserAuthenticationErrorOptions extends AuthErrorOptions {
  /** Acceptable authentication context classes, sent as `acr_values` (space-separated). */
  acrValues?: readonly string[] | undefined;
  /** Largest acceptable age of the user's authentication in seconds, sent as `max_age`. */
  maxAgeSec?: number | undefined;
}

/**
 * 401 `insufficient_user_authentication` (RFC 9470 §3): the token is valid but the user's
 * authentication was too weak or too long ago; the client asks the authorization server for a
 * new token with the `acr_values` / `max_age` of the challenge.
 */
export class InsufficientUserAuthenticationError extends AuthError {
  readonly code = "insufficient_user_authentication" as const;
  constructor(options: InsufficientUserAuthenticationErrorOptions = {}) {
    const description =
      options.description ?? "A stronger or more recent user authentication is required";
    const acr = options.acrValues;
    const attributes = errorAttributes(
      options.realm,
      "insufficient_user_authentication",
      description,
      {
        acr_values: acr !== undefined && acr.length > 0 ? acr.join(" ") : undefined,
        max_age: options.maxAgeSec === undefined ? undefined : String(options.maxAgeSec),
      },
    );
    super(
      401,
      options.reason ?? "acr_insufficient",
      description,
      challengeHeaders("Bearer", attributes),
      options.cause,
      options.details,
    );
    challenges.set(this, { scheme: "Bearer", attributes });
  }
}

/** How a verifier restates challenges: DPoP beside Bearer, and the RFC 9728 metadata link. */
export interface ChallengeContext {
  /** DPoP's mode and proof algorithms; absent when DPoP is disabled. */
  readonly dpop?: { readonly mode: "allowed" | "required"; readonly algs: readonly string[] };
  /** The scheme the request used, when it sent a token. */
  readonly usedScheme?: "bearer" | "dpop" | undefined;
  /** The protected-resource metadata URL, sent as `resource_metadata` (RFC 9728 §5.1). */
  readonly resourceMetadata?: string | undefined;
}

/**
 * The same refusal with its `WWW-Authenticate` restated for the verifier's configuration: a
 * `DPoP` challenge beside (or instead of) `Bearer` per RFC 9449 §7.1, the error in the scheme
 * the client used, and `resource_metadata` in every challenge. Errors without a challenge (503)
 * come back unchanged.
 */
export function restateChallenge<E extends AuthError>(error: E, context: ChallengeContext): E {
  const challenge = challenges.get(error);
  if (challenge === undefined) return error;
  const { dpop, resourceMetadata } = context;
  const { realm } = challenge.attributes;
  // `algs` belongs to the DPoP challenge only, and always last.
  const { algs: _algs, ...own } = challenge.attributes;
  const attributes = { ...own, resource_metadata: resourceMetadata };
  const bare = { realm, resource_metadata: resourceMetadata };
  let value: string;
  if (dpop === undefined) {
    value = schemeChallenge("Bearer", attributes);
  } else {
    const algs = dpop.algs.join(" ");
    const inDpop =
      challenge.scheme === "DPoP" || context.usedScheme === "dpop" || dpop.mode === "required";
    const dpopChallenge = schemeChallenge("DPoP", { ...(inDpop ? attributes : bare), algs });
    value =
      dpop.mode === "required"
        ? dpopChallenge
        : `${schemeChallenge("Bearer", inDpop ? bare : attributes)}, ${dpopChallenge}`;
  }
  const copy = Object.create(Object.getPrototypeOf(error), Object.getOwnPropertyDescriptors(error));
  Object.defineProperty(copy, "headers", {
    value: Object.freeze({ ...error.headers, "WWW-Authenticate": value }),
    enumerable: true,
  });
  challenges.set(copy, challenge);
  return copy;
}

/** Thrown at start-up for a bad option; never turned into a 401. */
export class ConfigurationError extends TypeError {
  /** Stable code, always `ERR_MEISHI_CONFIGURATION`. */
  readonly code = "ERR_MEISHI_CONFIGURATION" as const;
  override get name(): string {
    return "ConfigurationError";
  }
}

/** Every concrete refusal; `code` tells them apart without `instanceof`. */
export type AnyAuthError =
  | MissingTokenError
  | InvalidRequestError
  | InvalidTokenError
  | InsufficientScopeError
  | ServiceUnavailableError
  | InvalidDpopProofError
  | UseDpopNonceError
  | InsufficientUserAuthenticationError;

const AUTH_ERROR_CODES: ReadonlySet<unknown> = new Set<AuthErrorCode>([
  "invalid_request",
  "invalid_token",
  "insufficient_scope",
  "missing_token",
  "temporarily_unavailable",
  "invalid_dpop_proof",
  "use_dpop_nonce",
  "insufficient_user_authentication",
]);

/**
 * True for any meishi refusal, including one from another copy of this package. Narrows to a
 * union discriminated by `code`, so `e.code === "temporarily_unavailable"` gives
 * `e.retryAfterSec` with no `instanceof`.
 * @example
 * if (isAuthError(e) && e.code === "temporarily_unavailable") res.set("Retry-After", String(e.retryAfterSec));
 */
export function isAuthError(value: unknown): value is AnyAuthError {
  if (value instanceof AuthError) return true;
  if (!(value instanceof Error)) return false;
  const candidate = value as Partial<AuthError>;
  return (
    AUTH_ERROR_CODES.has(candidate.code) &&
    typeof candidate.status === "number" &&
    typeof candidate.reason === "string" &&
    typeof candidate.headers === "object"
  );
}
