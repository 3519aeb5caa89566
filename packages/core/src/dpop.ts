import {
  base64url,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  type JWK,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import { LRUCache } from "lru-cache";
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from "./algorithms.js";
import { checkNonNegative } from "./build-key-source.js";
import {
  type AuthError,
  InvalidDpopProofError,
  InvalidTokenError,
  type RejectReason,
  ServiceUnavailableError,
  UseDpopNonceError,
} from "./errors.js";
import { countRawHeaders, readHeader, type TokenRequest } from "./extract-token.js";
import type { Identity } from "./identity.js";
import { ownClaim } from "./identity.js";

/**
 * Remembers DPoP proof `jti`s so a proof is accepted once (RFC 9449 §11.1). Answer `true` when
 * the key was already seen (the proof is then refused), else remember it until `expiresAtSec`.
 * `createRedisReplayStore()` from `@meishi/redis` shares one store between processes.
 */
export interface DpopReplayStore {
  seen(jti: string, expiresAtSec: number): boolean | Promise<boolean>;
}

/**
 * Server-issued nonces (RFC 9449 §9). `current()` is what the server sends in `DPoP-Nonce`;
 * `isValid()` accepts the nonce of a proof. Give your own to share nonces between processes.
 */
export interface DpopNonceSource {
  current(): string | Promise<string>;
  isValid(nonce: string): boolean | Promise<boolean>;
}

/** How DPoP (RFC 9449) sender-constrained tokens are accepted. */
export interface DpopOptions {
  /**
   * `"allowed"`: Bearer and DPoP both pass, but a token bound to a key (`cnf.jkt`) must come
   * with the DPoP scheme and a proof. `"required"`: only DPoP. `"disabled"`: the `DPoP` scheme
   * is not read (the default when `dpop` is left out). Default `"allowed"`.
   */
  mode?: "disabled" | "allowed" | "required";
  /**
   * The public origin clients call, e.g. `"https://api.example.com"`: the proof's `htu` must be
   * this origin plus the request's path. Default: the origin of `resourceMetadata.resource`.
   * Never taken from `X-Forwarded-*`.
   */
  publicOrigin?: string;
  /**
   * Build the expected `htu` from the request's `Host` header as `http://<host>` when no
   * `publicOrigin` is set. For local development only: any client chooses its `Host`.
   */
  allowInsecureHostHeader?: boolean;
  /** Proof algorithms accepted. Default: every asymmetric algorithm. */
  algorithms?: readonly AsymmetricAlgorithm[];
  /** Oldest accepted proof, by its `iat`, in seconds. Default 60. */
  proofMaxAgeSec?: number;
  /** Seconds a proof's `iat` may be in the future. Default 5. */
  clockToleranceSec?: number;
  /** Where seen `jti`s are kept. Default: in memory, bounded by `replayCacheMax`. */
  replayStore?: DpopReplayStore;
  /** Entries of the default in-memory replay store. Default 100 000. */
  replayCacheMax?: number;
  /** Deadline for the replay store and nonce source; no answer is a 503. Default 1000. */
  storeTimeoutMs?: number;
  /**
   * Require server nonces: `true` for in-memory nonces that rotate every `nonceLifetimeSec`
   * (the current and the previous one are accepted), or your own {@link DpopNonceSource}.
   * Default: off.
   */
  nonce?: boolean | DpopNonceSource;
  /** Lifetime of an in-memory nonce in seconds. Default 300. */
  nonceLifetimeSec?: number;
}

/** Defaults of {@link DpopOptions}, pinned by tests. */
export const DPOP_DEFAULTS: Readonly<{
  proofMaxAgeSec: number;
  clockToleranceSec: number;
  replayCacheMax: number;
  storeTimeoutMs: number;
  nonceLifetimeSec: number;
  maxProofBytes: number;
  maxJtiLength: number;
}> = Object.freeze({
  proofMaxAgeSec: 60,
  clockToleranceSec: 5,
  replayCacheMax: 100_000,
  storeTimeoutMs: 1_000,
  nonceLifetimeSec: 300,
  // A proof holds a public key and five claims; an RSA-4096 key's proof is about 1.5 KiB.
  maxProofBytes: 8 * 1024,
  maxJtiLength: 256,
});

const DPOP_OPTION_KEYS = [
  "mode",
  "publicOrigin",
  "allowInsecureHostHeader",
  "algorithms",
  "proofMaxAgeSec",
  "clockToleranceSec",
  "replayStore",
  "replayCacheMax",
  "storeTimeoutMs",
  "nonce",
  "nonceLifetimeSec",
];

/**
 * The in-memory replay store: a bounded LRU whose entries expire with the proof window. When
 * full, the least recently stored `jti` is forgotten first; entries are keyed by key thumbprint
 * and `jti`, so only holders of valid bound tokens can fill it.
 * @example
 * const verifier = createVerifier({ ...options, dpop: { replayStore: createMemoryReplayStore({ max: 10_000 }) } });
 */
export function createMemoryReplayStore(options: { max?: number } = {}): DpopReplayStore {
  const max = options.max ?? DPOP_DEFAULTS.replayCacheMax;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError("createMemoryReplayStore(): max must be a positive integer");
  }
  // The expiry is kept and compared here rather than through lru-cache's ttl: one clock
  // (Date.now, the same one proofs' iat is checked against) decides both. A replay attempt
  // reads the entry, which keeps it among the most recent.
  const cache = new LRUCache<string, number>({ max });
  return {
    seen(jti, expiresAtSec) {
      const now = Date.now();
      const until = cache.get(jti);
      if (until !== undefined && until > now) return true;
      cache.set(jti, expiresAtSec * 1000);
      return false;
    },
  };
}

function randomNonce(): string {
  // Web Crypto: the same on Node, Workers, Deno and Bun.
  return base64url.encode(globalThis.crypto.getRandomValues(new Uint8Array(24)));
}

/**
 * In-memory nonces: a new one every `lifetimeSec`; the previous one stays valid for one more
 * lifetime so proofs made just before a rotation still pass.
 * @example
 * const verifier = createVerifier({ ...options, dpop: { nonce: createMemoryNonceSource({ lifetimeSec: 60 }) } });
 */
export function createMemoryNonceSource(options: { lifetimeSec?: number } = {}): DpopNonceSource {
  const lifetimeMs = (options.lifetimeSec ?? DPOP_DEFAULTS.nonceLifetimeSec) * 1000;
  if (!(lifetimeMs > 0)) {
    throw new TypeError("createMemoryNonceSource(): lifetimeSec must be positive");
  }
  let current = randomNonce();
  let previous: string | undefined;
  let issuedAt = Date.now();
  const rotate = () => {
    const now = Date.now();
    if (now - issuedAt < lifetimeMs) return;
    // Two lifetimes without a request: the old nonce is stale too.
    previous = now - issuedAt < 2 * lifetimeMs ? current : undefined;
    current = randomNonce();
    issuedAt = now;
  };
  return {
    current() {
      rotate();
      return current;
    },
    isValid(nonce) {
      rotate();
      return nonce === current || (previous !== undefined && nonce === previous);
    },
  };
}

/** What {@link verifyDpopProof} checks the proof against. */
export interface DpopProofExpectations {
  /** The request's method, compared with `htm`. */
  method: string;
  /** The request's absolute URL as the client called it; query and fragment are ignored. */
  url: string;
  /** The access token sent with the proof: its hash must be the proof's `ath`. */
  accessToken?: string | undefined;
  /** Accepted algorithms. Default: every asymmetric algorithm. */
  algorithms?: readonly string[] | undefined;
  /** Oldest accepted `iat`, in seconds. Default 60. */
  maxAgeSec?: number | undefined;
  /** Seconds `iat` may be in the future. Default 5. */
  clockToleranceSec?: number | undefined;
}

/** A proof that passed every check of RFC 9449 §4.3 except `jti` replay and nonce. */
export interface VerifiedDpopProof {
  /** The RFC 7638 SHA-256 thumbprint of the proof's key: what `cnf.jkt` binds a token to. */
  readonly jkt: string;
  /** The proof's `jti`. */
  readonly jti: string;
  /** The proof's `iat`, in seconds. */
  readonly iat: number;
  /** The proof's `nonce`, when it has one. */
  readonly nonce: string | undefined;
  /** The proof's public key. */
  readonly jwk: Readonly<JWK>;
}

// Three base64url segments with a signature; anything else is refused before parsing.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PUBLIC_KEY_TYPES = new Set(["EC", "RSA", "OKP"]);
// Members that only a private (or symmetric) JWK has (RFC 7518 §6).
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/** A proof failed a check: `reason` for logs, `description` for the client. */
export class DpopProofError extends Error {
  readonly reason: RejectReason;
  readonly check: string;
  constructor(reason: RejectReason, check: string, description: string) {
    super(description);
    this.reason = reason;
    this.check = check;
  }
  override get name(): string {
    return "DpopProofError";
  }
}

function refuse(check: string, description: string): never {
  throw new DpopProofError("dpop_proof_invalid", check, description);
}

/**
 * Normalises an `htu` or request URL for comparison (RFC 9449 §4.3, RFC 3986 §6.2.2–6.2.3):
 * scheme and host lower-case, default port dropped, dot segments resolved, percent-encoded
 * unreserved characters decoded and other escapes upper-cased; query and fragment dropped.
 * `undefined` for anything that is not an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  if (url.username !== "" || url.password !== "") return undefined;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (encoded, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : encoded.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * The base64url SHA-256 of an access token: a DPoP proof's `ath` (RFC 9449 §4.2).
 * @example
 * const ath = await accessTokenHash(token);
 */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(accessToken),
  );
  return base64url.encode(new Uint8Array(digest));
}

/**
 * Verifies a DPoP proof JWT (RFC 9449 §4.3): `typ` `dpop+jwt`, an allowed asymmetric `alg`, an
 * embedded public `jwk` that verifies the signature, `jti`, `htm` and `htu` of this request,
 * `iat` within the window and, with an access token, `ath`. An authorization server uses it at
 * its token endpoint; a resource server gets it, plus nonce, replay and `cnf.jkt`, from the
 * verifier's `dpop` option.
 *
 * @throws {DpopProofError} naming the failed check.
 * @example
 * const { jkt } = await verifyDpopProof(req.get("dpop"), { method: "POST", url: "https://auth.example.com/token" });
 */
export async function verifyDpopProof(
  proof: string,
  expected: DpopProofExpectations,
): Promise<VerifiedDpopProof> {
  const algorithms = expected.algorithms ?? ASYMMETRIC_ALGORITHMS;
  if (proof.length > DPOP_DEFAULTS.maxProofBytes || !COMPACT_JWS.test(proof)) {
    refuse("structure", "The DPoP proof is malformed");
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    refuse("structure", "The DPoP proof is malformed");
  }
  const typ = ownClaim(header, "typ");
  if (typeof typ !== "string" || typ.toLowerCase() !== "dpop+jwt") {
    refuse("typ", "The DPoP proof's typ must be dpop+jwt");
  }
  const alg = ownClaim(header, "alg");
  if (typeof alg !== "string" || !algorithms.includes(alg)) {
    refuse("alg", "The DPoP proof's algorithm is not accepted");
  }
  const jwk = ownClaim(header, "jwk");
  if (
    typeof jwk !== "object" ||
    jwk === null ||
    Array.isArray(jwk) ||
    !PUBLIC_KEY_TYPES.has((jwk as JWK).kty as string) ||
    PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member))
  ) {
    refuse("jwk", "The DPoP proof must carry a public jwk");
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      algorithms: [...algorithms],
      typ: "dpop+jwt",
      clockTolerance: expected.clockToleranceSec ?? DPOP_DEFAULTS.clockToleranceSec,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      refuse("signature", "The DPoP proof's signature is invalid");
    }
    if (
      error instanceof joseErrors.JOSEError &&
      !(error instanceof joseErrors.JWTClaimValidationFailed)
    ) {
      refuse("jwk", "The DPoP proof's jwk cannot verify it");
    }
    refuse("claims", "The DPoP proof is invalid");
  }
  const jti = ownClaim(payload, "jti");
  const htm = ownClaim(payload, "htm");
  const htu = ownClaim(payload, "htu");
  const iat = ownClaim(payload, "iat");
  const ath = ownClaim(payload, "ath");
  const nonce = ownClaim(payload, "nonce");
  if (
    typeof jti !== "string" ||
    jti === "" ||
    jti.length > DPOP_DEFAULTS.maxJtiLength ||
    typeof htm !== "string" ||
    typeof htu !== "string" ||
    typeof iat !== "number" ||
    !Number.isFinite(iat) ||
    (nonce !== undefined && typeof nonce !== "string") ||
    (expected.accessToken !== undefined && typeof ath !== "string")
  ) {
    refuse("claims", "The DPoP proof lacks a required claim");
  }
  // RFC 9110 §9.1: method names are case-sensitive.
  if (htm !== expected.method) refuse("htm", "The DPoP proof is for another HTTP method");
  const expectedUrl = normalizeHtu(expected.url);
  if (expectedUrl === undefined || normalizeHtu(htu) !== expectedUrl) {
    refuse("htu", "The DPoP proof is for another URL");
  }
  const nowSec = Date.now() / 1000;
  if (iat > nowSec + (expected.clockToleranceSec ?? DPOP_DEFAULTS.clockToleranceSec)) {
    refuse("iat", "The DPoP proof is issued in the future");
  }
  if (iat < nowSec - (expected.maxAgeSec ?? DPOP_DEFAULTS.proofMaxAgeSec)) {
    refuse("iat", "The DPoP proof is too old");
  }
  if (expected.accessToken !== undefined && ath !== (await accessTokenHash(expected.accessToken))) {
    refuse("ath", "The DPoP proof is for another access token");
  }
  const publicJwk = jwk as JWK;
  return Object.freeze({
    jkt: await calculateJwkThumbprint(publicJwk, "sha256"),
    jti,
    iat,
    nonce: nonce as string | undefined,
    jwk: Object.freeze({ ...publicJwk }),
  });
}

/** The verifier's resolved DPoP settings. */
export interface ResolvedDpop {
  readonly mode: "allowed" | "required";
  readonly algorithms: readonly string[];
  readonly publicOrigin: string | undefined;
  readonly allowInsecureHostHeader: boolean;
  readonly proofMaxAgeSec: number;
  readonly clockToleranceSec: number;
  readonly replayStore: DpopReplayStore;
  readonly storeTimeoutMs: number;
  readonly nonce: DpopNonceSource | undefined;
}

/** Validates the `dpop` option at start-up; `undefined` when DPoP is disabled. */
export function resolveDpop(
  fail: (message: string) => never,
  value: unknown,
  resourceOrigin: string | undefined,
): ResolvedDpop | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(
      'dpop must be an object such as { mode: "allowed", publicOrigin: "https://api.example.com" }',
    );
  }
  for (const name of Object.keys(value)) {
    if (!DPOP_OPTION_KEYS.includes(name)) {
      fail(`unknown option dpop.${name}; known: ${DPOP_OPTION_KEYS.join(", ")}`);
    }
  }
  const options = value as DpopOptions;
  const mode = options.mode ?? "allowed";
  if (mode === "disabled") return undefined;
  if (mode !== "allowed" && mode !== "required") {
    fail('dpop.mode must be "disabled", "allowed" or "required"');
  }
  let publicOrigin: string | undefined;
  if (options.publicOrigin !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.publicOrigin);
    } catch {
      url = undefined;
    }
    if (
      url === undefined ||
      (url.protocol !== "https:" && url.protocol !== "http:") ||
      `${url.origin}/` !== url.href
    ) {
      fail(
        `dpop.publicOrigin must be an http(s) origin with no path, e.g. "https://api.example.com"`,
      );
    }
    publicOrigin = url.origin;
  } else {
    publicOrigin = resourceOrigin;
  }
  const allowInsecureHostHeader = options.allowInsecureHostHeader === true;
  if (publicOrigin === undefined && !allowInsecureHostHeader) {
    fail(
      "dpop needs the public origin clients call, to check a proof's htu: set dpop.publicOrigin " +
        '(e.g. "https://api.example.com") or resourceMetadata.resource. For local development ' +
        "only, dpop.allowInsecureHostHeader: true reads it from the Host header.",
    );
  }
  let algorithms: readonly string[] = ASYMMETRIC_ALGORITHMS;
  if (options.algorithms !== undefined) {
    if (
      !Array.isArray(options.algorithms) ||
      options.algorithms.length === 0 ||
      options.algorithms.some((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg))
    ) {
      fail("dpop.algorithms must be a non-empty array of asymmetric algorithms (ES256, EdDSA, …)");
    }
    algorithms = Object.freeze([...options.algorithms]);
  }
  const replayStore = options.replayStore;
  if (
    replayStore !== undefined &&
    (typeof replayStore !== "object" ||
      replayStore === null ||
      typeof replayStore.seen !== "function")
  ) {
    fail("dpop.replayStore must have a seen(jti, expiresAtSec) method");
  }
  let nonce: DpopNonceSource | undefined;
  if (options.nonce === true) {
    nonce = createMemoryNonceSource({
      lifetimeSec: checkPositive(
        fail,
        "dpop.nonceLifetimeSec",
        options.nonceLifetimeSec,
        DPOP_DEFAULTS.nonceLifetimeSec,
      ),
    });
  } else if (typeof options.nonce === "object" && options.nonce !== null) {
    if (
      typeof options.nonce.current !== "function" ||
      typeof options.nonce.isValid !== "function"
    ) {
      fail("dpop.nonce must be true or a source with current() and isValid(nonce)");
    }
    nonce = options.nonce;
  } else if (options.nonce !== undefined && options.nonce !== false) {
    fail("dpop.nonce must be true, false or a source with current() and isValid(nonce)");
  }
  return Object.freeze({
    mode,
    algorithms,
    publicOrigin,
    allowInsecureHostHeader,
    proofMaxAgeSec: checkPositive(
      fail,
      "dpop.proofMaxAgeSec",
      options.proofMaxAgeSec,
      DPOP_DEFAULTS.proofMaxAgeSec,
    ),
    clockToleranceSec: checkNonNegative(
      fail,
      "dpop.clockToleranceSec",
      options.clockToleranceSec,
      DPOP_DEFAULTS.clockToleranceSec,
    ),
    replayStore:
      replayStore ??
      createMemoryReplayStore({
        max: checkPositive(
          fail,
          "dpop.replayCacheMax",
          options.replayCacheMax,
          DPOP_DEFAULTS.replayCacheMax,
        ),
      }),
    storeTimeoutMs: checkPositive(
      fail,
      "dpop.storeTimeoutMs",
      options.storeTimeoutMs,
      DPOP_DEFAULTS.storeTimeoutMs,
    ),
    nonce,
  });
}

function checkPositive(
  fail: (message: string) => never,
  name: string,
  value: unknown,
  fallback: number,
): number {
  const number = checkNonNegative(fail, name, value, fallback);
  if (number === 0) fail(`${name} must be greater than 0`);
  return number;
}

// Host is attacker text: only a host name or address and a port may become part of the URL.
const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

class StoreTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no answer from the DPoP store within ${timeoutMs} ms`);
    this.name = "StoreTimeout";
  }
}

async function withinDeadline<T>(answer: T | Promise<T>, timeoutMs: number): Promise<T> {
  if (!(answer instanceof Promise)) return answer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([answer, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The key a bound token names (`cnf.jkt`, RFC 9449 §6.1), if any. */
export function boundThumbprint(identity: Identity): string | undefined {
  const cnf = ownClaim(identity.claims, "cnf");
  if (typeof cnf !== "object" || cnf === null) return undefined;
  const jkt = ownClaim(cnf as Record<string, unknown>, "jkt");
  return typeof jkt === "string" ? jkt : undefined;
}

/**
 * Checks one request's DPoP side after its token verified: on every request, never from the
 * verified-token cache. Throws the `AuthError` to answer with.
 */
export class DpopRequestChecker {
  readonly #dpop: ResolvedDpop;
  readonly #realm: string;

  constructor(dpop: ResolvedDpop, realm: string) {
    this.#dpop = dpop;
    this.#realm = realm;
  }

  async check(
    request: TokenRequest,
    token: string,
    scheme: "bearer" | "dpop",
    identity: Identity,
    setHeader: ((name: string, value: string) => void) | undefined,
  ): Promise<void> {
    const bound = boundThumbprint(identity);
    if (scheme === "bearer") {
      // RFC 9449 §7.2: a bound token sent as Bearer is a stolen token used without its key.
      if (bound !== undefined) {
        throw this.#invalidToken(
          "dpop_bound_token_as_bearer",
          "The access token is bound to a key: send it with the DPoP scheme and a proof",
        );
      }
      if (this.#dpop.mode === "required") {
        throw this.#invalidToken(
          "dpop_required",
          "The access token must be sent with the DPoP scheme",
        );
      }
      return;
    }
    const proofText = this.#proofHeader(request);
    let proof: VerifiedDpopProof;
    try {
      proof = await verifyDpopProof(proofText, {
        method: request.method ?? "",
        url: this.#requestUrl(request),
        accessToken: token,
        algorithms: this.#dpop.algorithms,
        maxAgeSec: this.#dpop.proofMaxAgeSec,
        clockToleranceSec: this.#dpop.clockToleranceSec,
      });
    } catch (error) {
      throw this.#fromProofError(error);
    }
    const nonceSource = this.#dpop.nonce;
    if (nonceSource !== undefined) {
      const valid =
        proof.nonce !== undefined &&
        (await this.#store(() => nonceSource.isValid(proof.nonce as string)));
      if (!valid) {
        throw new UseDpopNonceError({
          realm: this.#realm,
          algs: this.#dpop.algorithms,
          nonce: await this.#store(() => nonceSource.current()),
          details: {
            check: "nonce",
            message:
              proof.nonce === undefined
                ? "the proof has no nonce"
                : "the proof's nonce is not current",
          },
        });
      }
    }
    if (bound === undefined) {
      throw this.#invalidToken("dpop_token_unbound", "The access token is not bound to a DPoP key");
    }
    if (bound !== proof.jkt) {
      throw this.#invalidToken(
        "dpop_key_mismatch",
        "The access token is bound to another key than the DPoP proof's",
      );
    }
    // Last, so that only the holder of a valid bound token and its key can add entries.
    const expiresAtSec = Math.ceil(
      proof.iat + this.#dpop.proofMaxAgeSec + this.#dpop.clockToleranceSec,
    );
    const seen = await this.#store(() =>
      this.#dpop.replayStore.seen(`${proof.jkt}:${proof.jti}`, expiresAtSec),
    );
    if (seen) {
      throw new InvalidDpopProofError({
        realm: this.#realm,
        algs: this.#dpop.algorithms,
        reason: "dpop_proof_replayed",
        description: "The DPoP proof was already used",
        details: { check: "jti", message: "a proof with this jti and key was already accepted" },
      });
    }
    if (nonceSource !== undefined && setHeader !== undefined) {
      setHeader("DPoP-Nonce", await this.#store(() => nonceSource.current()));
    }
  }

  #proofHeader(request: TokenRequest): string {
    const raw = readHeader(request.headers, "dpop");
    if (raw === undefined || raw === "" || (typeof raw !== "string" && raw.length === 0)) {
      throw new InvalidDpopProofError({
        realm: this.#realm,
        algs: this.#dpop.algorithms,
        reason: "dpop_proof_missing",
        description: "The request has no DPoP proof",
        details: { check: "dpop", message: "the DPoP scheme was used without a DPoP header" },
      });
    }
    const several =
      (typeof raw !== "string" && raw.length > 1) ||
      (typeof raw === "string" && raw.includes(",")) ||
      (request.rawHeaders !== undefined && countRawHeaders(request.rawHeaders, "dpop") > 1);
    const value = typeof raw === "string" ? raw : raw[0];
    if (several || value === undefined) {
      throw new InvalidDpopProofError({
        realm: this.#realm,
        algs: this.#dpop.algorithms,
        description: "The request must carry exactly one DPoP proof",
        details: { check: "dpop", message: "several DPoP headers" },
      });
    }
    return value.trim();
  }

  /** The URL the client called: the configured public origin plus the request's path. */
  #requestUrl(request: TokenRequest): string {
    const target = request.url ?? "";
    // Origin-form only ("/path?query"). Concatenated, never resolved: "//evil.example/x" must
    // stay a path under our origin.
    if (!target.startsWith("/")) return "";
    let origin = this.#dpop.publicOrigin;
    if (origin === undefined) {
      const host = readHeader(request.headers, "host");
      if (typeof host !== "string" || !HOST_HEADER.test(host)) return "";
      origin = `http://${host}`;
    }
    const end = target.search(/[?#]/);
    return origin + (end === -1 ? target : target.slice(0, end));
  }

  #fromProofError(error: unknown): AuthError {
    if (error instanceof DpopProofError) {
      return new InvalidDpopProofError({
        realm: this.#realm,
        algs: this.#dpop.algorithms,
        reason: error.reason,
        description: error.message,
        details: { check: error.check, message: error.message },
      });
    }
    return new InvalidDpopProofError({
      realm: this.#realm,
      algs: this.#dpop.algorithms,
      cause: error,
      details: { check: "proof", message: "the proof could not be checked" },
    });
  }

  #invalidToken(reason: RejectReason, description: string): InvalidTokenError {
    return new InvalidTokenError({
      realm: this.#realm,
      reason,
      description,
      details: { check: "cnf", message: description },
    });
  }

  async #store<T>(call: () => T | Promise<T>): Promise<T> {
    try {
      return await withinDeadline(call(), this.#dpop.storeTimeoutMs);
    } catch (error) {
      throw new ServiceUnavailableError({
        reason: "dpop_replay_unavailable",
        description: "The service cannot check DPoP proofs right now",
        cause: error,
      });
    }
  }
}
