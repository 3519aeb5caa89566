import { base64url } from "jose";
import { encodeJson, signCompact, signHmacCompact } from "./internal/sign-compact.js";
import { withoutUndefined } from "./internal/without-undefined.js";
import type { TestKey } from "./keys.js";

/**
 * Sign `claims` with `key` as a compact JWS, adding nothing but `alg` and `kid` to the header.
 *
 * `header` fields override or extend the protected header (`typ`, `jku`, `x5u`, `jwk`, `crit`,
 * `b64`, even a lying `alg`); a field set to `undefined` is removed. The signature always uses
 * the key's own algorithm, whatever the header claims, so tokens a verifier must reject can be
 * produced on purpose.
 *
 * @param key - The signing key, e.g. from {@link generateTestKey} or `issuer.keys`.
 * @param claims - The exact payload; no `iat`, `exp` or other defaults are added.
 * @param header - Extra or overriding protected header fields. Default: none.
 * @example
 * ```ts
 * const attacker = await generateTestKey("RS256");
 * const forged = await signToken(attacker, { sub: "admin", exp: 9999999999 }, { typ: "JWT" });
 * ```
 */
export async function signToken(
  key: TestKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const protectedHeader = withoutUndefined({ alg: key.alg, kid: key.kid, ...header });
  return signCompact(protectedHeader, withoutUndefined(claims), key.privateKey, key.alg);
}

/**
 * Sign `claims` with a shared secret under HS256 (or HS384/HS512 via `header.alg`), for
 * algorithm-confusion tests such as "HS256 keyed with the RSA public key".
 *
 * @param secret - The HMAC key: bytes, or a string encoded as UTF-8.
 * @param claims - The exact payload; no defaults are added.
 * @param header - Extra or overriding header fields. Default `{ alg: "HS256" }`; `alg` picks
 *   the hash when it is HS256, HS384 or HS512 and SHA-256 otherwise.
 * @example
 * ```ts
 * import { exportSPKI } from "jose";
 * const pem = await exportSPKI(issuer.keys[0]!.publicKey);
 * const confused = await signHmacToken(pem, { sub: "admin" }, { kid: issuer.keys[0]!.kid });
 * ```
 */
export async function signHmacToken(
  secret: Uint8Array | string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const protectedHeader = withoutUndefined({ alg: "HS256", ...header });
  const alg = protectedHeader.alg;
  const bits = alg === "HS384" ? "384" : alg === "HS512" ? "512" : "256";
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  return signHmacCompact(protectedHeader, withoutUndefined(claims), bytes, bits);
}

/**
 * Build an unsecured JWT (RFC 7519 §6): header `{"alg":"none"}` and an empty signature.
 *
 * @param claims - The exact payload; no defaults are added.
 * @param header - Extra or overriding header fields. Default `{ alg: "none" }`.
 * @example
 * ```ts
 * const token = createUnsecuredToken({ sub: "admin", iss: issuer.issuer });
 * ```
 */
export function createUnsecuredToken(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const protectedHeader = withoutUndefined({ alg: "none", ...header });
  return `${encodeJson(protectedHeader)}.${encodeJson(withoutUndefined(claims))}.`;
}

/**
 * Re-encode a token's payload with `changes` applied, keeping the original header and
 * signature, so the result carries a signature that no longer matches (an "edited role" token).
 *
 * @param token - A compact JWS.
 * @param changes - Claims to set; a claim set to `undefined` is removed.
 * @throws TypeError when the token is not three dot-separated parts with a JSON object payload.
 * @example
 * ```ts
 * const edited = tamperPayload(await issuer.sign({ role: "user" }), { role: "admin" });
 * ```
 */
export function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [header, , signature] = splitToken(token);
  const { payload } = decodeTokenParts(token);
  return `${header}.${encodeJson(withoutUndefined({ ...payload, ...changes }))}.${signature}`;
}

/**
 * Decode a compact JWS's header and payload without verifying anything.
 *
 * @param token - A compact JWS.
 * @returns The parsed protected header and payload.
 * @throws TypeError when the token is not three dot-separated parts or a part is not a
 *   base64url-encoded JSON object.
 * @example
 * ```ts
 * const { header, payload } = decodeTokenParts(await issuer.sign());
 * expect(header.kid).toBe(issuer.keys[0]!.kid);
 * ```
 */
export function decodeTokenParts(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = splitToken(token);
  return {
    header: decodeJsonObject(header, "header"),
    payload: decodeJsonObject(payload, "payload"),
  };
}

function splitToken(token: string): [string, string, string] {
  const parts = token.split(".");
  if (parts.length !== 3) throw new TypeError("expected a compact JWS with three parts");
  return [parts[0] ?? "", parts[1] ?? "", parts[2] ?? ""];
}

function decodeJsonObject(part: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(base64url.decode(part)));
  } catch {
    throw new TypeError(`token ${name} is not base64url-encoded JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`token ${name} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
