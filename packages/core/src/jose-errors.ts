import { errors as joseErrors } from "jose";
import {
  type AuthError,
  InvalidTokenError,
  isAuthError,
  type RefusalDetails,
  type RejectReason,
  withoutStackCapture,
} from "./errors.js";

const CLAIM_REASONS: Readonly<Record<string, RejectReason>> = {
  iss: "issuer_mismatch",
  aud: "audience_mismatch",
  nbf: "token_not_yet_valid",
  iat: "token_issued_in_future",
  typ: "typ_mismatch",
  exp: "claim_invalid",
};

/** The generic, client-safe description of a refusal: never the claims themselves. */
export function descriptionFor(reason: RejectReason): string {
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
 * jose's claim errors carry the whole payload, and some frameworks print an error's `cause`
 * (Express's default handler writes it to stderr in production). Claims are personal data, so
 * only jose's code, its message (which names the claim, never its value) and the claim name
 * travel on.
 */
function withoutPayload(error: joseErrors.JOSEError): Error {
  const safe = withoutStackCapture(() => new Error(error.message));
  Object.defineProperty(safe, "name", { value: error.name });
  Object.defineProperty(safe, "code", { value: error.code, enumerable: true });
  Object.defineProperty(safe, "stack", { value: `${error.name}: ${error.message}` });
  return safe;
}

function claimDetails(
  error: joseErrors.JOSEError,
  expected: ExpectedClaims | undefined,
): RefusalDetails | undefined {
  if (!(error instanceof joseErrors.JWTClaimValidationFailed)) {
    if (error instanceof joseErrors.JWTExpired) {
      const claim = error.claim;
      const value = error.payload[claim];
      return { check: claim, actual: value, message: `"${claim}" ${describeTime(value)}` };
    }
    return undefined;
  }
  const claim = error.claim;
  const actual = Object.hasOwn(error.payload, claim) ? error.payload[claim] : undefined;
  if (claim === "aud" || claim === "iss") {
    const want = claim === "aud" ? expected?.audience : expected?.issuer;
    return {
      check: claim,
      expected: want,
      actual,
      message: mismatchMessage(claim, want, actual),
    };
  }
  if (claim === "typ") {
    return {
      check: "typ",
      expected: expected?.typ,
      actual: error.payload.typ ?? undefined,
      message: `typ header ≠ expected ${JSON.stringify(expected?.typ)}`,
    };
  }
  if (claim === "nbf" || claim === "iat") {
    return { check: claim, actual, message: `"${claim}" ${describeTime(actual)}` };
  }
  if (error.reason === "missing") {
    return { check: claim, message: `the token has no "${claim}" claim, which is required` };
  }
  return { check: claim, message: `the "${claim}" claim ${error.message}` };
}

// Beyond this a time is not a date anyone means (and `Date` cannot print it).
const LATEST_PRINTABLE_SEC = 8.64e12;

function describeTime(value: unknown): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "is not a number";
  if (Math.abs(value) > LATEST_PRINTABLE_SEC) return `is ${value}, beyond any date`;
  const seconds = Math.round(value - Date.now() / 1000);
  const when = new Date(value * 1000).toISOString();
  return seconds < 0 ? `was ${when} (${-seconds} s ago)` : `is ${when} (in ${seconds} s)`;
}

function safeDetails(
  error: joseErrors.JOSEError,
  expected: ExpectedClaims | undefined,
): RefusalDetails | undefined {
  // Explaining a refusal must never fail it differently: a strange value gets no details.
  try {
    return claimDetails(error, expected);
  } catch {
    return undefined;
  }
}

function mismatchMessage(claim: string, expected: unknown, actual: unknown): string {
  const actualText = actual === undefined ? "absent" : JSON.stringify(actual);
  let message = `${claim} ${actualText} ≠ expected ${JSON.stringify(expected)}`;
  const wanted = Array.isArray(expected) ? expected : [expected];
  if (typeof actual === "string") {
    const near = wanted.find(
      (want) => typeof want === "string" && want.replace(/\/+$/, "") === actual.replace(/\/+$/, ""),
    );
    if (near !== undefined) message += " (they differ only by a trailing slash)";
  }
  return message;
}

/** The configured expectations, so a refusal can say what was expected. */
export interface ExpectedClaims {
  readonly issuer?: string | readonly string[] | undefined;
  readonly audience?: string | readonly string[] | undefined;
  readonly typ?: string | undefined;
}

/**
 * Turns anything thrown while verifying into the meishi hierarchy: jose's token errors become
 * 401 `invalid_token` with a generic description, a payload-free copy kept as `cause` and the
 * failed check in `details`. A token is attacker input, so even an unexpected error from
 * parsing it (a TypeError from a strange header) is a refusal of that token, never a 500.
 */
export function toAuthError(error: unknown, realm = "api", expected?: ExpectedClaims): AuthError {
  if (isAuthError(error)) return error;
  if (!(error instanceof joseErrors.JOSEError)) {
    return new InvalidTokenError({
      realm,
      reason: "malformed_token",
      description: descriptionFor("malformed_token"),
      cause: error,
      details: { check: "structure", message: "the token could not be parsed" },
    });
  }
  const reason = reasonForJoseError(error);
  return new InvalidTokenError({
    realm,
    reason,
    description: descriptionFor(reason),
    cause: withoutPayload(error),
    details: safeDetails(error, expected) ?? { check: reason, message: error.message },
  });
}
