// The Node path (node:crypto one-shot verify, Node's base64url and UTF-8 decoding, the claim
// pre-check, keys answered synchronously) against jose's WebCrypto path, which stays the
// reference: on every generated and mutated token both must accept the same tokens and refuse
// the rest for the same reason.
import { generateTestKey, signToken, TEST_ALGORITHMS, type TestKey } from "@meishi/testing";
import { base64url } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createVerifier, isAuthError, type Verifier } from "../src/index.node.js";
import { platform } from "../src/platform.js";

const TOKENS = 100_000;

// A small deterministic PRNG, so a disagreement can be replayed.
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const now = () => Math.floor(Date.now() / 1000);
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P384_N =
  0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

function toBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function fromBigInt(value: bigint, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

/** The ECDSA twin (r, n − s): valid math, another encoding. */
function highS(token: string, order: bigint): string {
  const [h, p, s] = token.split(".") as [string, string, string];
  const sig = base64url.decode(s);
  const half = sig.length / 2;
  const r = sig.slice(0, half);
  const twin = fromBigInt(order - toBigInt(sig.slice(half)), half);
  const joined = new Uint8Array(sig.length);
  joined.set(r);
  joined.set(twin, half);
  return `${h}.${p}.${base64url.encode(joined)}`;
}

/**
 * The same JSON in an encoding the decoders may treat differently: a byte-order mark, invalid or
 * overlong UTF-8, a lone surrogate, padding, a stray trailing character, non-ASCII text.
 */
function oddEncoding(segment: string, random: () => number): string {
  const json = new TextDecoder().decode(base64url.decode(segment));
  const bytes = new TextEncoder().encode(json);
  const withBytes = (prefix: number[], suffix: number[] = []) =>
    base64url.encode(new Uint8Array([...prefix, ...bytes, ...suffix]));
  switch (Math.floor(random() * 8)) {
    case 0:
      return withBytes([0xef, 0xbb, 0xbf]);
    case 1:
      return base64url.encode(new TextEncoder().encode(`${json.slice(0, -1)},"x":"\u00ff\u4e2d"}`));
    case 2:
      // An invalid byte inside a string value.
      return base64url.encode(
        new Uint8Array([
          ...new TextEncoder().encode(`${json.slice(0, -1)},"x":"`),
          0xff,
          0x22,
          0x7d,
        ]),
      );
    case 3:
      // An overlong encoding of "/".
      return base64url.encode(
        new Uint8Array([
          ...new TextEncoder().encode(`${json.slice(0, -1)},"x":"`),
          0xc0,
          0xaf,
          0x22,
          0x7d,
        ]),
      );
    case 4:
      // A UTF-8 encoded lone surrogate (ED A0 80).
      return base64url.encode(
        new Uint8Array([
          ...new TextEncoder().encode(`${json.slice(0, -1)},"x":"`),
          0xed,
          0xa0,
          0x80,
          0x22,
          0x7d,
        ]),
      );
    case 5:
      return `${segment}${"=".repeat(1 + Math.floor(random() * 2))}`;
    case 6:
      return `${segment}${B64[Math.floor(random() * 64)]}`;
    default:
      return withBytes([0x20, 0x0a], [0x09]);
  }
}

function mutate(token: string, random: () => number, others: readonly string[]): string {
  const [h, p, s] = token.split(".") as [string, string, string];
  const pick = (text: string) => Math.floor(random() * Math.max(1, text.length));
  const flip = (text: string) => {
    if (text.length === 0) return "A";
    const at = pick(text);
    const replacement = B64[Math.floor(random() * 64)]!;
    return text.slice(0, at) + replacement + text.slice(at + 1);
  };
  const header = JSON.parse(new TextDecoder().decode(base64url.decode(h))) as Record<
    string,
    unknown
  >;
  switch (Math.floor(random() * 18)) {
    case 0:
      return token;
    case 1:
      return `${h}.${p}.${flip(s)}`;
    case 2:
      return `${h}.${flip(p)}.${s}`;
    case 3:
      return `${flip(h)}.${p}.${s}`;
    case 4:
      return `${h}.${p}.${s.slice(0, -1 - Math.floor(random() * 3))}`;
    case 5:
      return `${h}.${p}.${s}${B64[Math.floor(random() * 64)]}`;
    case 6: {
      // Slack bits of the last character: another encoding of the same bytes (or not).
      const last = B64.indexOf(s.at(-1)!);
      return `${h}.${p}.${s.slice(0, -1)}${B64[(last & ~3) | Math.floor(random() * 4)]}`;
    }
    case 7: {
      const algs = ["RS256", "RS384", "PS256", "PS512", "ES256", "ES384", "EdDSA", "Ed25519"];
      return `${encodeJson({ ...header, alg: algs[Math.floor(random() * algs.length)] })}.${p}.${s}`;
    }
    case 8: {
      const { kid: _dropped, ...rest } = header;
      return `${encodeJson(rest)}.${p}.${s}`;
    }
    case 9:
      return `${h}.${p}.`;
    case 10:
      return `${h}.${p}.${others[Math.floor(random() * others.length)]!.split(".")[2]}`;
    case 11:
      return `${encodeJson({ ...header, crit: ["exp"] })}.${p}.${s}`;
    case 12:
      return `${encodeJson({ ...header, typ: random() < 0.5 ? "at+jwt" : "application/at+jwt" })}.${p}.${s}`;
    case 13:
      return `${h}.${[encodeJson([]), encodeJson(1), "bnVsbA", "e30"][Math.floor(random() * 4)]}.${s}`;
    case 16:
      return `${oddEncoding(h, random)}.${p}.${s}`;
    case 17:
      return `${h}.${oddEncoding(p, random)}.${s}`;
    case 14:
      return `${h}.${p}.${s.slice(0, 1 + pick(s))}`;
    default:
      return `${h}.${p}.${base64url.encode(crypto.getRandomValues(new Uint8Array(base64url.decode(s).length || 64)))}`;
  }
}

let keys: TestKey[];
let verifiers: Verifier[];
let base: string[];

beforeAll(async () => {
  keys = [];
  for (const alg of TEST_ALGORITHMS) keys.push(await generateTestKey(alg));
  // A second RS256 and ES256 key without kid, so kid-less tokens meet several candidates.
  keys.push(await generateTestKey("RS256"), await generateTestKey("ES256"));
  const jwks = { keys: keys.map((key) => key.publicJwk) };
  const common = { keys: jwks, logger: false as const, verifiedTokenCache: false as const };
  verifiers = [
    createVerifier({ ...common, issuer: "https://iss", audience: "https://aud" }),
    createVerifier({
      ...common,
      issuer: ["https://iss", "https://other"],
      audience: null,
      typ: "at+jwt",
      maxTokenAgeSec: 600,
      requiredClaims: ["sub"],
    }),
  ];
  const random = prng(7);
  const edges = [
    {},
    { exp: now() - 3 },
    { exp: now() - 30 },
    { nbf: now() + 3 },
    { nbf: now() + 60 },
    { iat: now() + 60 },
    { iat: now() - 3_600 },
    { iss: "https://other" },
    { iss: "https://iss/" },
    { aud: ["https://aud", "x"] },
    { aud: "https://aud2" },
    { sub: undefined },
    { exp: "soon" },
    { aud: { a: 1 } },
    // The claim pre-check's edges: each must end where jose ends.
    { exp: now() },
    { exp: now() + 0.5 },
    { exp: null },
    { nbf: now() },
    { nbf: "now" },
    { iat: "now" },
    { iat: null },
    { iat: undefined },
    { iat: now() - 601 },
    { iat: now() - 599 },
    { aud: [] },
    { aud: ["x", 1] },
    { aud: ["https://aud", 1] },
    { aud: undefined },
    { iss: ["https://iss"] },
    { iss: 1 },
    { iss: undefined },
    { exp: undefined },
    { sub: 1 },
  ];
  base = [];
  for (const key of keys) {
    for (const edge of edges) {
      for (const typ of [undefined, "at+jwt", "JWT"]) {
        const claims = {
          iss: "https://iss",
          aud: "https://aud",
          sub: "s",
          iat: now(),
          exp: now() + 600,
          ...edge,
        };
        const header: Record<string, unknown> = {};
        if (typ !== undefined) header.typ = typ;
        if (random() < 0.15) header.kid = undefined;
        base.push(await signToken(key, claims, header));
      }
    }
  }
  for (const key of keys) {
    if (key.alg === "ES256" || key.alg === "ES384") {
      const order = key.alg === "ES256" ? P256_N : P384_N;
      const token = await signToken(key, {
        iss: "https://iss",
        aud: "https://aud",
        sub: "s",
        exp: now() + 600,
      });
      base.push(highS(token, order));
    }
  }
});

async function outcome(verifier: Verifier, token: string, nodePath: boolean): Promise<string> {
  const { verifySignature, decodeJsonSegment } = platform;
  if (!nodePath) {
    platform.verifySignature = undefined;
    platform.decodeJsonSegment = undefined;
  }
  try {
    await verifier.verify(token);
    return "accepted";
  } catch (error) {
    return isAuthError(error) ? error.reason : `threw ${String(error)}`;
  } finally {
    platform.verifySignature = verifySignature;
    platform.decodeJsonSegment = decodeJsonSegment;
  }
}

describe("node:crypto signatures agree with jose", () => {
  it(`on ${TOKENS.toLocaleString("en")} generated and mutated tokens, every algorithm`, {
    timeout: 600_000,
  }, async () => {
    expect(platform.verifySignature).toBeDefined();
    const random = prng(42);
    const disagreements: string[] = [];
    const seen = new Map<string, number>();
    for (let i = 0; i < TOKENS; i++) {
      const token = mutate(base[Math.floor(random() * base.length)]!, random, base);
      const verifier = verifiers[i % verifiers.length]!;
      // One after the other: the path is chosen by a module-level switch.
      const fast = await outcome(verifier, token, true);
      const reference = await outcome(verifier, token, false);
      seen.set(reference, (seen.get(reference) ?? 0) + 1);
      if (fast !== reference && disagreements.length < 10) {
        disagreements.push(`${token}: node ${fast}, jose ${reference}`);
      }
    }
    expect(disagreements).toEqual([]);
    // The mix is meaningful: plenty accepted, and the main refusal kinds all occur.
    expect(seen.get("accepted")).toBeGreaterThan(1_500);
    for (const reason of [
      "signature_invalid",
      "malformed_token",
      "token_expired",
      "audience_mismatch",
      "issuer_mismatch",
      "typ_mismatch",
      "unsupported_header",
    ]) {
      expect(seen.get(reason), reason).toBeGreaterThan(0);
    }
  });
});

describe("MEISHI_WEBCRYPTO_ONLY=1", () => {
  it("keeps jose's WebCrypto path and decoding on Node", async () => {
    vi.resetModules();
    vi.stubEnv("MEISHI_WEBCRYPTO_ONLY", "1");
    try {
      await import("../src/index.node.js");
      const fresh = (await import("../src/platform.js")).platform;
      expect(fresh.verifySignature).toBeUndefined();
      expect(fresh.decodeJsonSegment).toBeUndefined();
      expect(fresh.importStaticKey).toBeDefined();
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
