import { webcrypto } from "node:crypto";
import { base64url, type CryptoKey } from "jose";
import type { TestAlgorithm } from "../keys.js";

// jose's CompactSign refuses headers that a verifier must reject (unknown `crit` names, `b64`
// without `crit`, an `alg` that does not match the key). Producing exactly those tokens is
// this package's job, so the compact serialisation (RFC 7515 §7.1) is assembled here and only
// the signature primitive comes from Web Crypto. The signature always uses the key's own
// algorithm; the header may claim anything.

type SignParams = webcrypto.Algorithm | webcrypto.RsaPssParams | webcrypto.EcdsaParams;

const HASH_BYTES: Record<string, number> = { "256": 32, "384": 48, "512": 64 };

function signParams(alg: TestAlgorithm): SignParams {
  const bits = alg.slice(2);
  if (alg.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5" };
  if (alg.startsWith("PS")) return { name: "RSA-PSS", saltLength: HASH_BYTES[bits] ?? 32 };
  if (alg.startsWith("ES")) return { name: "ECDSA", hash: `SHA-${bits}` };
  return { name: "Ed25519" };
}

/** Encode a JSON value as base64url (no padding). */
export function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** Produce `header.payload.signature` signed with `key` under `alg`, with `header` as given. */
export async function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: CryptoKey,
  alg: TestAlgorithm,
): Promise<string> {
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`;
  const signature = await webcrypto.subtle.sign(
    signParams(alg),
    key as webcrypto.CryptoKey,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${base64url.encode(new Uint8Array(signature))}`;
}

/** Sign with a shared secret under HS256/384/512 (for algorithm-confusion tests). */
export async function signHmacCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: Uint8Array,
  hashBits: "256" | "384" | "512",
): Promise<string> {
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`;
  const hmacKey = await webcrypto.subtle.importKey(
    "raw",
    secret,
    { name: "HMAC", hash: `SHA-${hashBits}` },
    false,
    ["sign"],
  );
  const signature = await webcrypto.subtle.sign(
    "HMAC",
    hmacKey,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${base64url.encode(new Uint8Array(signature))}`;
}
