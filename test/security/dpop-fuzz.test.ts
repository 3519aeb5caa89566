import {
  accessTokenHash,
  createVerifier,
  isAuthError,
  type TokenRequest,
  type Verifier,
} from "@meishi/core";
import {
  createDpopClient,
  createTestIssuer,
  type DpopClient,
  type TestIssuer,
} from "@meishi/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b64url, expectNoStackTrace, guardProcess, signRaw, socketHarnesses } from "./support.js";

guardProcess();

// Same knobs as fuzz.test.ts: MEISHI_FUZZ_SEED replays a run, MEISHI_FUZZ_SCALE lengthens it.
const SEED = process.env.MEISHI_FUZZ_SEED;
const SCALE = Number(process.env.MEISHI_FUZZ_SCALE ?? 1);
function runs(numRuns: number): fc.Parameters<unknown> {
  const scaled = Math.max(1, Math.round(numRuns * SCALE));
  return SEED === undefined ? { numRuns: scaled } : { numRuns: scaled, seed: Number(SEED) };
}

const ORIGIN = "https://api.example.test";
const URL_ME = `${ORIGIN}/me`;
const ALGS = "ES256 EdDSA";

/** Every description a DPoP refusal may carry: nothing from the proof is reflected. */
const DPOP_DESCRIPTIONS = new Set([
  "The request has no DPoP proof",
  "The request must carry exactly one DPoP proof",
  "The DPoP proof is malformed",
  "The DPoP proof's typ must be dpop+jwt",
  "The DPoP proof's algorithm is not accepted",
  "The DPoP proof must carry a public jwk",
  "The DPoP proof's jwk cannot verify it",
  "The DPoP proof's signature is invalid",
  "The DPoP proof is invalid",
  "The DPoP proof lacks a required claim",
  "The DPoP proof is for another HTTP method",
  "The DPoP proof is for another URL",
  "The DPoP proof is issued in the future",
  "The DPoP proof is too old",
  "The DPoP proof is for another access token",
  "The DPoP proof was already used",
  "The access token is bound to another key than the DPoP proof's",
]);

let issuer: TestIssuer;
let client: DpopClient;
let verifier: Verifier;
let token: string;
let ath: string;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ["ES256"] });
  client = await createDpopClient("ES256");
  verifier = createVerifier({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    logger: false,
    dpop: { mode: "allowed", publicOrigin: ORIGIN, algorithms: ["ES256", "EdDSA"] },
  });
  token = await issuer.sign({ cnf: { jkt: client.jkt } });
  ath = await accessTokenHash(token);
});

afterAll(async () => {
  await issuer.close();
});

function request(proof: string, method = "GET"): TokenRequest {
  return { headers: { authorization: `DPoP ${token}`, dpop: proof }, url: "/me", method };
}

/** Authenticates; a refusal must be a well-formed 401 DPoP answer, never anything else. */
async function outcome(proof: string): Promise<"accepted" | "refused"> {
  try {
    await verifier.authenticate(request(proof));
    return "accepted";
  } catch (error) {
    if (!isAuthError(error)) throw error;
    expect(error.status).toBe(401);
    expect(["invalid_dpop_proof", "invalid_token"]).toContain(error.code);
    expect(DPOP_DESCRIPTIONS.has(error.description), error.description).toBe(true);
    expect(error.headers["WWW-Authenticate"]).toBe(
      error.code === "invalid_dpop_proof"
        ? `Bearer realm="api", DPoP realm="api", error="invalid_dpop_proof", error_description="${error.description}", algs="${ALGS}"`
        : `Bearer realm="api", DPoP realm="api", error="invalid_token", error_description="${error.description}", algs="${ALGS}"`,
    );
    return "refused";
  }
}

function validPayload(): Record<string, unknown> {
  return {
    jti: crypto.randomUUID(),
    htm: "GET",
    htu: URL_ME,
    iat: Math.floor(Date.now() / 1000),
    ath,
  };
}

function validHeader(): Record<string, unknown> {
  return { typ: "dpop+jwt", alg: "ES256", jwk: client.publicJwk };
}

const anyJson = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 40 }),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
);

describe("fuzzed DPoP proofs", () => {
  it("the untouched proof passes (the control)", async () => {
    const proof = await signRaw(
      client.key,
      JSON.stringify(validHeader()),
      JSON.stringify(validPayload()),
    );
    expect(await outcome(proof)).toBe("accepted");
  });

  it("refuses random text as a proof, with a well-formed 401", async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc
        .tuple(fc.base64String(), fc.base64String(), fc.base64String())
        .map((parts) => parts.join(".")),
      fc.json().map((json) => `${b64url(json)}.${b64url(json)}.${b64url("sig")}`),
    );
    await fc.assert(
      fc.asyncProperty(text, async (proof) => {
        // Header values cannot carry these; Node would refuse them before meishi sees them.
        fc.pre(!/[\r\n\0]/.test(proof));
        expect(await outcome(proof)).toBe("refused");
      }),
      runs(300),
    );
  });

  it("refuses a validly signed proof with any one header member changed", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("typ", "alg", "jwk"), anyJson, async (member, value) => {
        const header = { ...validHeader(), [member]: value };
        fc.pre(JSON.stringify(header[member]) !== JSON.stringify(validHeader()[member]));
        // "DPOP+JWT" is the same media type (RFC 9110 §8.3.1: case-insensitive).
        fc.pre(
          !(member === "typ" && typeof value === "string" && value.toLowerCase() === "dpop+jwt"),
        );
        const proof = await signRaw(
          client.key,
          JSON.stringify(header),
          JSON.stringify(validPayload()),
        );
        expect(await outcome(proof)).toBe("refused");
      }),
      runs(200),
    );
  });

  it("refuses a validly signed proof with any one claim changed or removed", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("jti", "htm", "htu", "iat", "ath"),
        fc.option(anyJson, { nil: undefined }),
        async (claim, value) => {
          const payload: Record<string, unknown> = { ...validPayload(), [claim]: value };
          if (value === undefined) delete payload[claim];
          // Any non-empty short string is a fine jti; an iat within the window is a fine iat.
          fc.pre(!(claim === "jti" && typeof value === "string" && value !== ""));
          fc.pre(
            !(
              claim === "iat" &&
              typeof value === "number" &&
              Math.abs(value - Date.now() / 1000) < 60
            ),
          );
          const proof = await signRaw(
            client.key,
            JSON.stringify(validHeader()),
            JSON.stringify(payload),
          );
          expect(await outcome(proof)).toBe("refused");
        },
      ),
      runs(300),
    );
  });

  it("refuses htu variants that name another resource", async () => {
    const variant = fc.oneof(
      fc.constantFrom(
        "https://api.example.test/me/",
        "https://api.example.test/ME",
        "http://api.example.test/me",
        "https://api.example.test:8443/me",
        "https://api.example.test.evil/me",
        "https://evil/api.example.test/me",
        "https://user@api.example.test/me",
        "https://api.example.test/me/..",
        "https://api.example.test//me",
        "https://api.example.test/%2Fme",
        "/me",
        "api.example.test/me",
      ),
      fc.webUrl().filter((url) => !url.startsWith(ORIGIN)),
    );
    await fc.assert(
      fc.asyncProperty(variant, async (htu) => {
        const proof = await signRaw(
          client.key,
          JSON.stringify(validHeader()),
          JSON.stringify({ ...validPayload(), htu }),
        );
        expect(await outcome(proof)).toBe("refused");
      }),
      runs(100),
    );
  });

  it("refuses every bit-flip of a valid proof's signature", async () => {
    const proof = await signRaw(
      client.key,
      JSON.stringify(validHeader()),
      JSON.stringify(validPayload()),
    );
    const [head, body, signature] = proof.split(".") as [string, string, string];
    const bytes = Buffer.from(signature, "base64url");
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length * 8 - 1), async (bit) => {
        const flipped = Buffer.from(bytes);
        flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(await outcome(`${head}.${body}.${flipped.toString("base64url")}`)).toBe("refused");
      }),
      runs(100),
    );
  });
});

describe.each(socketHarnesses)("$name: fuzzed DPoP headers over HTTP", (harness) => {
  it("answers every one with a well-formed 401, never a 5xx or a stack trace", async () => {
    const app = await harness.start({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      logger: false,
      dpop: { mode: "allowed", publicOrigin: ORIGIN, algorithms: ["ES256", "EdDSA"] },
    });
    try {
      const printable = fc.string({
        unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
        minLength: 1,
        maxLength: 400,
      });
      await fc.assert(
        fc.asyncProperty(printable, async (proof) => {
          const reply = await app.request("/me", { authorization: `DPoP ${token}`, dpop: proof });
          expect(reply.status).toBe(401);
          expectNoStackTrace(reply.body);
          const description = (reply.body as { error_description?: unknown }).error_description;
          expect(DPOP_DESCRIPTIONS.has(String(description)), String(description)).toBe(true);
          expect(reply.headers["www-authenticate"]).toMatch(
            /^Bearer realm="api", DPoP realm="api", error="(invalid_dpop_proof|invalid_token)", /,
          );
        }),
        runs(60),
      );
    } finally {
      await app.close();
    }
  });
});
