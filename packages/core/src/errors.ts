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
  | "temporarily_unavailable";

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
  | "revocation_unavailable";

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

const DEFAULT_REALM = "api";

// RFC 6750 §3: error_description and scope are quoted-strings restricted to %x20-21 / %x23-5B
// / %x5D-7E, so `"` and `\` cannot appear at all (escaping them is not allowed either).
function toChallengeValue(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "'");
}

/** Builds a `WWW-Authenticate` value for the Bearer scheme (RFC 6750 §3). */
export function buildChallenge(attributes: Readonly<Record<string, string | undefined>>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) parts.push(`${name}="${toChallengeValue(value)}"`);
  }
  return parts.length === 0 ? "Bearer" : `Bearer ${parts.join(", ")}`;
}

function errorChallenge(
  realm: string | undefined,
  error: AuthErrorCode,
  description: string,
  scopes?: readonly string[],
): Record<string, string> {
  return {
    "WWW-Authenticate": buildChallenge({
      realm: realm ?? DEFAULT_REALM,
      error,
      error_description: description,
      scope: scopes !== undefined && scopes.length > 0 ? scopes.join(" ") : undefined,
    }),
  };
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
    super(description, cause === undefined ? undefined : { cause });
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
      { "WWW-Authenticate": buildChallenge({ realm: options.realm ?? DEFAULT_REALM }) },
      options.cause,
      options.details,
    );
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
      errorChallenge(options.realm, "invalid_request", description),
      options.cause,
      options.details,
    );
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
      errorChallenge(options.realm, "invalid_token", description),
      options.cause,
      options.details,
    );
  }
}

/** Options of {@link InsufficientScopeError}. */
export interface InsufficientScopeErrorOptions extends AuthErrorOptions {
  /** Scopes that would have been enough, sent as the challenge's `scope` attribute. */
  scopes?: readonly string[] | undefined;
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
      errorChallenge(options.realm, "insufficient_scope", description, options.scopes),
      options.cause,
      options.details,
    );
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
  | ServiceUnavailableError;

const AUTH_ERROR_CODES: ReadonlySet<unknown> = new Set<AuthErrorCode>([
  "invalid_request",
  "invalid_token",
  "insufficient_scope",
  "missing_token",
  "temporarily_unavailable",
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
