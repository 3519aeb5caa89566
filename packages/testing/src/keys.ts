import { randomBytes } from "node:crypto";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK } from "jose";

/**
 * An asymmetric JWS algorithm the test issuer can sign with (RFC 7518 §3, RFC 8037 §3.1).
 *
 * @example
 * ```ts
 * const alg: TestAlgorithm = "ES256";
 * ```
 */
export type TestAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA";

/**
 * Every {@link TestAlgorithm}, in a stable order: handy for `it.each` loops.
 *
 * @example
 * ```ts
 * const issuer = await createTestIssuer({ algorithms: [...TEST_ALGORITHMS] });
 * ```
 */
export const TEST_ALGORITHMS: readonly TestAlgorithm[] = Object.freeze([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
]);

/**
 * A signing key pair with its public JWK, as minted by {@link generateTestKey} or a test issuer.
 *
 * - `kid`: the key id written into the JWK and, by default, into token headers.
 * - `alg`: the algorithm the key signs with.
 * - `privateKey` / `publicKey`: extractable Web Crypto keys from jose `generateKeyPair`.
 * - `publicJwk`: the public JWK exactly as it is (or would be) published, with `kid`, `use` and,
 *   unless `omitAlg` was asked for, `alg`.
 * - `published`: whether the issuer's JWKS serves the key at the moment the object was taken.
 *   Objects are snapshots; change publication with `issuer.unpublish()` / `issuer.publish()`.
 *
 * @example
 * ```ts
 * const attacker = await generateTestKey("RS256", issuer.keys[0]!.kid);
 * ```
 */
export interface TestKey {
  readonly kid: string;
  readonly alg: TestAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
  published: boolean;
}

/** @internal Options for shaping the published JWK of a generated key. */
export interface JwkShape {
  use?: "sig" | "enc";
  omitAlg?: boolean;
}

/**
 * Generate a standalone signing key: for "attacker" keys, static-key tests, or keys to publish
 * by hand with `issuer.publishJwk(key.publicJwk)`.
 *
 * RSA and RSA-PSS keys are 2048-bit, `EdDSA` keys are Ed25519. The returned key has
 * `published: false`.
 *
 * @param alg - The algorithm the key signs with.
 * @param kid - Key id. Default: `${alg.toLowerCase()}-` plus 8 random base64url characters.
 * @example
 * ```ts
 * const key = await generateTestKey("ES256");
 * const token = await signToken(key, { sub: "mallory" });
 * ```
 */
export async function generateTestKey(alg: TestAlgorithm, kid?: string): Promise<TestKey> {
  return createKey(alg, kid, {});
}

/** @internal Generate a key and shape its public JWK. */
export async function createKey(
  alg: TestAlgorithm,
  kid: string | undefined,
  shape: JwkShape,
): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg.startsWith("RS") || alg.startsWith("PS") ? { modulusLength: 2048 } : {}),
    ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}),
  });
  const keyId = kid ?? randomKid(alg);
  const exported = await exportJWK(publicKey);
  const publicJwk: JWK = { ...exported, kid: keyId, use: shape.use ?? "sig" };
  if (shape.omitAlg !== true) publicJwk.alg = alg;
  return { kid: keyId, alg, privateKey, publicKey, publicJwk, published: false };
}

function randomKid(alg: TestAlgorithm): string {
  return `${alg.toLowerCase()}-${randomBytes(6).toString("base64url")}`;
}
