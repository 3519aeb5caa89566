import { isUtf8 } from "node:buffer";
import { constants, KeyObject, verify } from "node:crypto";
import type { CryptoKey } from "jose";

// jose 6 verifies through WebCrypto everywhere (an async hop to the thread pool per check);
// Node's one-shot `crypto.verify` is synchronous and about twice as fast for RS256. Key
// selection, header and claim checks stay jose's: only the signature check moves here, and
// test/differential runs both on the same tokens to prove they agree.
const keyObjects = new WeakMap<object, KeyObject>();

function keyObjectFor(key: CryptoKey | { type: string }): KeyObject {
  if (key instanceof KeyObject) return key;
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
    keyObjects.set(key, keyObject);
  }
  return keyObject;
}

const HASHES: Readonly<Record<string, string>> = {
  RS256: "sha256",
  RS384: "sha384",
  RS512: "sha512",
  PS256: "sha256",
  PS384: "sha384",
  PS512: "sha512",
  ES256: "sha256",
  ES384: "sha384",
  ES512: "sha512",
};

const PSS_SALT: Readonly<Record<string, number>> = { PS256: 32, PS384: 48, PS512: 64 };

/**
 * Checks a JWS signature with node:crypto. `undefined` means "not handled here": the caller
 * falls back to jose.
 */
export function verifySignatureWithNode(
  alg: string,
  key: CryptoKey | { type: string },
  signingInput: string,
  signature: string,
): boolean | undefined {
  const keyObject = keyObjectFor(key);
  const data = Buffer.from(signingInput, "latin1");
  const signatureBytes = Buffer.from(signature, "base64url");
  try {
    if (alg === "EdDSA" || alg === "Ed25519") {
      return verify(null, data, keyObject, signatureBytes);
    }
    const hash = HASHES[alg];
    if (hash === undefined) return undefined;
    if (alg.startsWith("RS")) return verify(hash, data, keyObject, signatureBytes);
    if (alg.startsWith("PS")) {
      return verify(
        hash,
        data,
        { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT[alg] },
        signatureBytes,
      );
    }
    return verify(hash, data, { key: keyObject, dsaEncoding: "ieee-p1363" }, signatureBytes);
  } catch {
    // A signature of the wrong length or a key that does not fit the algorithm: not valid,
    // exactly as WebCrypto answers `false`.
    return false;
  }
}

/**
 * A JWS segment's JSON object, or `undefined` wherever jose's decoding (base64url, strict UTF-8,
 * `JSON.parse`, a plain object) might answer differently, so the caller falls back to jose. The
 * caller has checked the alphabet; Buffer would silently skip other characters.
 */
export function decodeJsonSegmentWithNode(segment: string): Record<string, unknown> | undefined {
  // A lone trailing character encodes no byte: atob refuses it, Buffer drops it.
  if (segment.length % 4 === 1) return undefined;
  const bytes = Buffer.from(segment, "base64url");
  // TextDecoder strips a byte-order mark that JSON.parse would refuse; leave that case to jose.
  if (bytes[0] === 0xef || !isUtf8(bytes)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
