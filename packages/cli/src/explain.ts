import type { AuthError, MeishiEvent } from "@meishi/core";
import type { JWTPayload, ProtectedHeaderParameters } from "jose";
import { describeTime } from "./time.js";

/** What `meishi verify` knows when it explains a refusal. */
export interface ExplainContext {
  error: AuthError;
  header: ProtectedHeaderParameters | undefined;
  payload: JWTPayload | undefined;
  expected: {
    keysFrom: string;
    issuer: string | undefined;
    audience: readonly string[];
    roles: readonly string[];
    scopes: readonly string[];
    algorithms: readonly string[];
  };
  events: readonly MeishiEvent[];
  /** Roles and scopes of the verified token, for a refusal by a rule. */
  granted: { roles: readonly string[]; scopes: readonly string[] } | undefined;
  nowSec: number;
}

const show = (value: unknown): string =>
  value === undefined
    ? "nothing"
    : typeof value === "string"
      ? `"${value}"`
      : JSON.stringify(value);

const list = (values: readonly string[]): string => values.map((value) => `"${value}"`).join(", ");

function claimOf(error: AuthError): string | undefined {
  return error.details?.check;
}

// Core's own wording, for refusals this file has no sentence of its own for.
function fromDetails(error: AuthError): string | undefined {
  const details = error.details;
  if (details === undefined) return undefined;
  if (details.expected !== undefined || details.actual !== undefined) {
    return `The ${details.check} check failed: expected ${show(details.expected)}, the token has ${show(details.actual)}.`;
  }
  return `The ${details.check} check failed: ${details.message}.`;
}

// Core notices near misses, such as a trailing slash; that hint is worth the extra words.
function hint(error: AuthError): string {
  const match = /\(([^)]*)\)$/.exec(error.details?.message ?? "");
  return match === null ? "" : ` (${match[1]})`;
}

/**
 * One sentence naming the check that failed and the expected vs actual value. The reason code
 * is printed beside it by the caller.
 */
export function explainRefusal(context: ExplainContext): string {
  const { error, header, payload, expected, nowSec } = context;
  const kid = header?.kid;
  switch (error.reason) {
    case "malformed_token":
    case "missing_token":
      // The header and payload decoded, so the fault is narrower than "not a JWT": say which.
      if (header !== undefined && error.details !== undefined) {
        return `The format check failed: expected a well-formed JWS, ${error.details.message.replace(/^F/, "f")}.`;
      }
      return `The format check failed: expected a JWS compact token (three base64url parts with a JSON header and payload), the input is not one${error.details === undefined ? "" : ` (${error.details.message})`}.`;
    case "token_too_large":
      return "The size check failed: expected at most 16 KiB, the token is larger.";
    case "alg_not_allowed":
      return `The algorithm check failed: expected one of ${expected.algorithms.join(", ")}, the token has alg ${show(header?.alg)}.`;
    case "unsupported_header":
      return `The header check failed: expected only supported header parameters, the token has ${show(header?.crit ?? header?.b64)}.`;
    case "unknown_kid":
      return `The key check failed: expected a key with kid ${show(kid)} at ${expected.keysFrom}, no published key has it.`;
    case "ambiguous_key":
      return `The key check failed: expected one key for kid ${show(kid)} at ${expected.keysFrom}, several match.`;
    case "signature_invalid":
      return `The signature check failed: expected a signature by key ${show(kid)} from ${expected.keysFrom}, the signature does not match (the token was altered or signed by another key).`;
    case "token_expired":
      return `The expiry check failed: expected exp after now (${new Date(nowSec * 1000).toISOString()}), the token ${typeof payload?.exp === "number" ? `${describeTime("exp", payload.exp, nowSec)} (${new Date(payload.exp * 1000).toISOString()})` : "has no usable exp"}.`;
    case "token_not_yet_valid":
      return `The not-before check failed: expected nbf at or before now, the token is ${typeof payload?.nbf === "number" ? describeTime("nbf", payload.nbf, nowSec) : "not valid yet"}.`;
    case "token_issued_in_future":
      return `The issued-at check failed: expected iat at or before now, the token was ${typeof payload?.iat === "number" ? describeTime("iat", payload.iat, nowSec) : "issued in the future"}.`;
    case "token_too_old":
      return `The token-age check failed: the token was ${typeof payload?.iat === "number" ? describeTime("iat", payload.iat, nowSec) : "issued too long ago"}.`;
    case "issuer_mismatch":
    case "issuer_not_allowed":
      return `The issuer check failed: expected iss ${show(expected.issuer)}, the token has ${show(payload?.iss)}${hint(error)}.`;
    case "audience_mismatch":
      return `The audience check failed: expected aud ${expected.audience.length === 1 ? show(expected.audience[0]) : `any of ${list(expected.audience)}`}, the token has ${show(payload?.aud)}${hint(error)}.`;
    case "typ_mismatch":
      return `The type check failed: the token has typ ${show(header?.typ)}.`;
    case "claim_missing":
      return `The required-claim check failed: expected a ${claimOf(error) ?? "required"} claim, the token has none.`;
    case "claim_invalid": {
      const claim = claimOf(error);
      return `The claim check failed: expected a valid ${claim ?? "claim"}, the token has ${claim === undefined ? "an invalid one" : show(payload?.[claim])}.`;
    }
    case "token_revoked":
      return "The revocation check failed: the token was revoked.";
    case "role_missing": {
      const roles = context.granted?.roles ?? [];
      // Core notices role-like claims outside the configured path (a token with "roles" or
      // "groups" while rolesClaim is "role"); that is the usual cause of this refusal.
      const elsewhere = /the token has (.+) \(set rolesClaim\)$/.exec(error.details?.message ?? "");
      const held =
        roles.length > 0
          ? list(roles)
          : elsewhere === null
            ? "no roles"
            : `no roles in its role claim but has ${elsewhere[1]} (try --roles-claim)`;
      return `The role check failed: expected any of ${list(expected.roles)}, the token has ${held}.`;
    }
    case "scope_missing":
      return `The scope check failed: expected all of ${list(expected.scopes)}, the token has ${context.granted === undefined || context.granted.scopes.length === 0 ? "no scopes" : list(context.granted.scopes)}.`;
    case "keys_unavailable": {
      const failure = context.events.find((event) => event.type === "jwks_fetch_failed");
      const why =
        failure?.type === "jwks_fetch_failed"
          ? `${failure.reason}: ${failure.error.message}`
          : "no usable key";
      return `The key fetch failed: expected a JWKS from ${expected.keysFrom}, got ${why}.`;
    }
    default:
      return fromDetails(error) ?? `The ${error.reason.replaceAll("_", " ")} check failed.`;
  }
}
