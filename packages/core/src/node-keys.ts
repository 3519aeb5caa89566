import { createPublicKey, type KeyObject } from "node:crypto";

const MIN_RSA_BITS = 2048;

/** Turns a PEM (SPKI or certificate) or KeyObject into a public verification key. */
export function toPublicKeyObject(key: string | { type: string }): KeyObject {
  const keyObject = typeof key === "string" ? createPublicKey(key) : (key as KeyObject);
  if (keyObject.type === "secret") {
    throw new TypeError(
      "a symmetric key cannot be used: meishi verifies asymmetric signatures only",
    );
  }
  const publicKey = keyObject.type === "private" ? createPublicKey(keyObject) : keyObject;
  const bits = publicKey.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) {
    throw new TypeError(`RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${bits}`);
  }
  return publicKey;
}
