import { randomUUID } from "node:crypto";
import { base64url, calculateJwkThumbprint, exportJWK, type JWK } from "jose";
import { signCompact } from "./internal/sign-compact.js";
import { withoutUndefined } from "./internal/without-undefined.js";
import { generateTestKey, type TestAlgorithm, type TestKey } from "./keys.js";

/** What a proof says and how it is signed; every field can be changed to make a bad proof. */
export interface DpopProofOptions {
  /** The access token the proof goes with: its hash becomes `ath`. Default: none (no `ath`). */
  accessToken?: string;
  /** The server's nonce, sent as `nonce`. Default: none. */
  nonce?: string;
  /** `jti`. Default: a random UUID. */
  jti?: string;
  /** Seconds added to now for `iat` (negative: in the past). Default 0. */
  iatOffsetSec?: number;
  /** Claims that override or extend the payload; `undefined` removes one. */
  claims?: Record<string, unknown>;
  /** Header fields that override or extend `typ`, `alg` and `jwk`; `undefined` removes one. */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the client's (the header still embeds the client's jwk). */
  signWith?: TestKey;
}

/** A DPoP client: a real key pair that makes RFC 9449 proofs. */
export interface DpopClient {
  /** The client's key. */
  readonly key: TestKey;
  /** The public JWK embedded in every proof (no `kid`, `use` or `alg`). */
  readonly publicJwk: JWK;
  /** The RFC 7638 SHA-256 thumbprint: put it in a token as `cnf: { jkt }` to bind the token. */
  readonly jkt: string;
  /** A signed proof for `method` and `url` (query and fragment are dropped from `htu`). */
  proof(method: string, url: string, options?: DpopProofOptions): Promise<string>;
}

/**
 * Create a DPoP client with a fresh key pair.
 *
 * @param alg - The proof algorithm. Default `ES256`.
 * @example
 * ```ts
 * const client = await createDpopClient();
 * const token = await issuer.sign({ cnf: { jkt: client.jkt } });
 * const proof = await client.proof("GET", "https://api.example.com/me", { accessToken: token });
 * // Authorization: DPoP <token>, DPoP: <proof>
 * ```
 */
export async function createDpopClient(alg: TestAlgorithm = "ES256"): Promise<DpopClient> {
  const key = await generateTestKey(alg);
  const { kty, crv, x, y, n, e } = await exportJWK(key.publicKey);
  const publicJwk = withoutUndefined({ kty, crv, x, y, n, e }) as JWK;
  const jkt = await calculateJwkThumbprint(publicJwk, "sha256");
  return {
    key,
    publicJwk,
    jkt,
    async proof(method, url, options = {}) {
      const target = new URL(url);
      const htu = `${target.origin}${target.pathname}`;
      const ath =
        options.accessToken === undefined
          ? undefined
          : base64url.encode(
              new Uint8Array(
                await crypto.subtle.digest(
                  "SHA-256",
                  new TextEncoder().encode(options.accessToken),
                ),
              ),
            );
      const payload = withoutUndefined({
        jti: options.jti ?? randomUUID(),
        htm: method,
        htu,
        iat: Math.floor(Date.now() / 1000) + (options.iatOffsetSec ?? 0),
        ath,
        nonce: options.nonce,
        ...options.claims,
      });
      const header = withoutUndefined({
        typ: "dpop+jwt",
        alg: key.alg,
        jwk: publicJwk,
        ...options.header,
      });
      const signer = options.signWith ?? key;
      return signCompact(header, payload, signer.privateKey, signer.alg);
    },
  };
}
