import {
  base64url,
  type CryptoKey,
  createLocalJWKSet,
  type FlattenedJWSInput,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  type KeyObject,
} from "jose";
import { FetchFailure } from "./fetch-json.js";

/** A verification key as jose accepts it. */
export type VerificationKey = CryptoKey | KeyObject;

/** Picks the key for a token's protected header. */
export type KeyResolver = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => Promise<VerificationKey>;

/** A validated key set ready for selection. */
export interface ParsedKeySet {
  /** The usable keys, public members only: what a snapshot saves. */
  readonly jwks: JSONWebKeySet;
  readonly select: KeyResolver;
  /**
   * The key `select` already chose for this header's `alg` and `kid`, without a promise;
   * `undefined` when it has not (yet) chosen one.
   */
  readonly selectNow: (header: JWSHeaderParameters) => VerificationKey | undefined;
  readonly kids: ReadonlySet<string>;
  readonly keyCount: number;
  /** Changes only when the key material changes, so caches keyed on it survive routine refreshes. */
  readonly fingerprint: string;
}

export interface KeyFilter {
  algorithms: readonly string[];
  maxKeys: number;
  onIgnored(kid: string | undefined, why: string): void;
}

const MIN_RSA_BITS = 2048;
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

function defaultAlgFor(jwk: JWK): string | undefined {
  switch (jwk.kty) {
    case "RSA":
      return "RS256";
    case "EC":
      return jwk.crv === "P-256"
        ? "ES256"
        : jwk.crv === "P-384"
          ? "ES384"
          : jwk.crv === "P-521"
            ? "ES512"
            : undefined;
    case "OKP":
      return jwk.crv === "Ed25519" ? "EdDSA" : undefined;
    default:
      return undefined;
  }
}

function rsaModulusBits(n: unknown): number {
  if (typeof n !== "string") return 0;
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(n);
  } catch {
    return 0;
  }
  let leadingZeroBits = 0;
  for (const byte of bytes) {
    if (byte !== 0) {
      leadingZeroBits += Math.clz32(byte) - 24;
      break;
    }
    leadingZeroBits += 8;
  }
  return bytes.length * 8 - leadingZeroBits;
}

async function usableKey(raw: unknown, filter: KeyFilter): Promise<JWK | string> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "not an object";
  const jwk = { ...(raw as JWK) };
  if (typeof jwk.kty !== "string") return "no kty";
  if (jwk.kid !== undefined && typeof jwk.kid !== "string") return "kid is not a string";
  if (jwk.use !== undefined && jwk.use !== "sig") return `use is ${String(jwk.use)}`;
  if (
    jwk.key_ops !== undefined &&
    !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))
  ) {
    return "key_ops lacks verify";
  }
  // RFC 8725 §3.1: a symmetric key in a public set would let anyone holding the set mint tokens.
  if (jwk.kty === "oct") return "symmetric key";
  if (jwk.alg !== undefined && !filter.algorithms.includes(jwk.alg)) {
    return `alg ${String(jwk.alg)} not allowed`;
  }
  if (jwk.kty === "RSA" && rsaModulusBits(jwk.n) < MIN_RSA_BITS) return "RSA key below 2048 bits";
  for (const member of PRIVATE_MEMBERS) delete (jwk as Record<string, unknown>)[member];
  const alg = jwk.alg ?? defaultAlgFor(jwk);
  if (alg === undefined) return `unsupported key type ${jwk.kty}`;
  try {
    await importJWK(jwk, alg);
  } catch {
    return "key parameters do not import";
  }
  return jwk;
}

/**
 * Validates a JWKS document and keeps only keys that can verify signatures with an allowed
 * algorithm. A document with no usable key is a failure, so a lying server cannot wipe the
 * keys we already trust.
 */
export async function parseKeySet(body: unknown, filter: KeyFilter): Promise<ParsedKeySet> {
  if (typeof body !== "object" || body === null || !Array.isArray((body as JSONWebKeySet).keys)) {
    throw new FetchFailure("invalid_document", "response is not a JWKS");
  }
  const rawKeys = (body as { keys: unknown[] }).keys;
  if (rawKeys.length > filter.maxKeys) {
    throw new FetchFailure("invalid_document", `JWKS has ${rawKeys.length} keys, over the cap`);
  }
  const keys: JWK[] = [];
  for (const raw of rawKeys) {
    const result = await usableKey(raw, filter);
    if (typeof result === "string") {
      const kid = (raw as { kid?: unknown } | null)?.kid;
      filter.onIgnored(typeof kid === "string" ? kid : undefined, result);
    } else {
      keys.push(result);
    }
  }
  if (keys.length === 0) throw new FetchFailure("invalid_document", "JWKS has no usable key");
  const jwks: JSONWebKeySet = { keys };
  return {
    jwks,
    ...rememberingSelection(createLocalJWKSet(jwks)),
    kids: new Set(keys.flatMap((key) => (key.kid === undefined ? [] : [key.kid]))),
    keyCount: keys.length,
    fingerprint: JSON.stringify(keys),
  };
}

/** Longest `kid` looked up, reported or cached; longer ones are refused before any lookup. */
export const MAX_KID_LENGTH = 256;
// Printable ASCII only: a kid travels into events and logs, where CR/LF or ANSI escapes could
// forge or hide lines.
const ACCEPTABLE_KID = /^[\x20-\x7e]+$/;

/** True when a header's `kid` is absent or short, printable text. */
export function isAcceptableKid(kid: unknown): boolean {
  return (
    kid === undefined ||
    (typeof kid === "string" && kid.length <= MAX_KID_LENGTH && ACCEPTABLE_KID.test(kid))
  );
}

/**
 * jose's selection among a set's keys depends only on a compact token's `alg` and `kid`, and
 * costs four promise hops and a scan of the set per token. Once jose has chosen the one key for
 * an `alg` and `kid`, the choice is remembered for this set (a refetched set starts afresh), so
 * later tokens take it synchronously. Only successful single-key choices are kept, so the memo
 * holds at most one entry per key and algorithm, whatever `kid`s attackers send.
 */
function rememberingSelection(
  selectWithJose: KeyResolver,
): Pick<ParsedKeySet, "select" | "selectNow"> {
  const byAlgAndKid = new Map<string, Map<string, VerificationKey>>();
  const byAlgWithoutKid = new Map<string, VerificationKey>();
  return {
    select: async (header, token) => {
      const key = await selectWithJose(header, token);
      const { alg, kid } = header;
      if (typeof alg === "string" && kid === undefined) byAlgWithoutKid.set(alg, key);
      else if (typeof alg === "string" && typeof kid === "string") {
        const byKid = byAlgAndKid.get(alg) ?? new Map<string, VerificationKey>();
        byKid.set(kid, key);
        byAlgAndKid.set(alg, byKid);
      }
      return key;
    },
    selectNow: ({ alg, kid }) => {
      if (typeof alg !== "string") return undefined;
      if (kid === undefined) return byAlgWithoutKid.get(alg);
      return typeof kid === "string" ? byAlgAndKid.get(alg)?.get(kid) : undefined;
    },
  };
}
