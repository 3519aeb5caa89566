import {
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from "jose";
import { describeTime, duration } from "./time.js";

/** Something in a token worth a second look. */
export interface TokenWarning {
  /** Stable code: `alg_none`, `hmac`, `missing_exp`, `expired`, `not_yet_valid`, `long_lifetime`, `key_url_header`, `embedded_jwk`, `signature_malformed`, `no_signature`. */
  code: string;
  message: string;
}

/** A time claim read as a date. */
export interface TokenTime {
  claim: "iat" | "nbf" | "exp";
  value: number;
  date: string;
  /** "expires in 4 min", "expired 2 h ago", "issued 3 d ago". */
  relative: string;
}

/** What `meishi decode` reports about a token. Nothing in it is verified. */
export interface TokenInspection {
  header: ProtectedHeaderParameters;
  payload: JWTPayload;
  times: TokenTime[];
  warnings: TokenWarning[];
  /** The `cnf.jkt` thumbprint when the token is DPoP-bound (RFC 9449 §6.1). */
  dpopJkt: string | undefined;
}

/** Longest lifetime (`exp` − `iat`) before a warning: a day. Access tokens should live minutes. */
export const LONG_LIFETIME_SEC: number = 24 * 3600;

const TIME_CLAIMS: readonly TokenTime["claim"][] = ["iat", "nbf", "exp"];

/**
 * Strips what people paste along with a token: a `Bearer ` prefix and whitespace, including
 * the line breaks a terminal or an e-mail puts into a long token (a JWT never contains any).
 * @example
 * cleanToken("Bearer eyJ…\n  …") // "eyJ……"
 */
export function cleanToken(text: string): string {
  return text
    .trim()
    .replace(/^bearer\s+/i, "")
    .replace(/\s+/g, "");
}

function signatureWarnings(token: string, alg: unknown): TokenWarning[] {
  const signature = token.split(".")[2] ?? "";
  if (signature === "") {
    return alg === "none"
      ? []
      : [{ code: "no_signature", message: "The token has no signature at all." }];
  }
  // base64url without padding never leaves a single character in the last group (RFC 4648 §5).
  if (!/^[A-Za-z0-9_-]+$/.test(signature) || signature.length % 4 === 1) {
    return [
      {
        code: "signature_malformed",
        message: `The signature "${signature.length > 24 ? `${signature.slice(0, 24)}…` : signature}" is not valid base64url: it looks like a placeholder, so no key can verify it.`,
      },
    ];
  }
  return [];
}

function headerWarnings(header: ProtectedHeaderParameters): TokenWarning[] {
  const warnings: TokenWarning[] = [];
  const alg = header.alg;
  if (alg === "none") {
    warnings.push({
      code: "alg_none",
      message:
        "alg is none: the token is unsigned and anyone can write it; a verifier must refuse it.",
    });
  } else if (typeof alg === "string" && alg.startsWith("HS")) {
    warnings.push({
      code: "hmac",
      message: `alg ${alg} is HMAC, a shared secret: everyone who can verify it can also forge it, and with a public JWKS it is an algorithm-confusion attack (RFC 8725 §3.1).`,
    });
  }
  for (const name of ["jku", "x5u"] as const) {
    if (header[name] !== undefined) {
      warnings.push({
        code: "key_url_header",
        message: `The header names a key URL (${name}: ${String(header[name])}): a verifier must never fetch keys from a URL the token itself gives.`,
      });
    }
  }
  if (header.jwk !== undefined) {
    warnings.push({
      code: "embedded_jwk",
      message: "The header embeds its own key (jwk): trusting it would let anyone sign tokens.",
    });
  }
  return warnings;
}

function claimWarnings(payload: JWTPayload, nowSec: number): TokenWarning[] {
  const warnings: TokenWarning[] = [];
  const { exp, iat, nbf } = payload;
  if (typeof exp !== "number") {
    warnings.push({
      code: "missing_exp",
      message: "There is no exp: the token never expires, so a stolen copy works forever.",
    });
  } else {
    if (exp < nowSec) {
      warnings.push({ code: "expired", message: `The token ${describeTime("exp", exp, nowSec)}.` });
    }
    const lifetime = exp - (typeof iat === "number" ? iat : nowSec);
    if (lifetime > LONG_LIFETIME_SEC) {
      warnings.push({
        code: "long_lifetime",
        message: `The token lives ${duration(lifetime)}: access tokens should live minutes, with refresh tokens for the rest.`,
      });
    }
  }
  if (typeof nbf === "number" && nbf > nowSec) {
    warnings.push({
      code: "not_yet_valid",
      message: `The token is ${describeTime("nbf", nbf, nowSec)}.`,
    });
  }
  return warnings;
}

function readJkt(payload: JWTPayload): string | undefined {
  const cnf = payload.cnf;
  if (typeof cnf !== "object" || cnf === null) return undefined;
  const jkt = (cnf as { jkt?: unknown }).jkt;
  return typeof jkt === "string" ? jkt : undefined;
}

/**
 * Decodes a JWT without verifying it and lists what deserves a warning.
 * @throws {Error} when the text is not a JWS compact JWT (three base64url parts with JSON).
 * @example
 * const { header, payload, warnings } = inspectToken(token);
 */
export function inspectToken(
  token: string,
  nowSec: number = Math.floor(Date.now() / 1000),
): TokenInspection {
  const header = decodeProtectedHeader(token);
  const payload = decodeJwt(token);
  const times: TokenTime[] = [];
  for (const claim of TIME_CLAIMS) {
    const value = payload[claim];
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    times.push({
      claim,
      value,
      date: new Date(value * 1000).toISOString(),
      relative: describeTime(claim, value, nowSec),
    });
  }
  return {
    header,
    payload,
    times,
    warnings: [
      ...headerWarnings(header),
      ...signatureWarnings(token, header.alg),
      ...claimWarnings(payload, nowSec),
    ],
    dpopJkt: readJkt(payload),
  };
}
