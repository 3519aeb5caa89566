import { generateKeyPairSync } from "node:crypto";
import {
  createTestIssuer,
  createUnsecuredToken,
  generateTestKey,
  signHmacToken,
  signToken,
  type TestAlgorithm,
  type TestIssuer,
  tamperPayload,
} from "@meishi/testing";
import { exportJWK, exportSPKI } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ConfigurationError,
  createVerifier,
  InvalidTokenError,
  type MeishiEvent,
  MissingTokenError,
  ServiceUnavailableError,
  type Verifier,
  type VerifierOptions,
} from "../src/index.node.js";

async function rejection(promise: Promise<unknown>): Promise<InvalidTokenError> {
  try {
    await promise;
  } catch (error) {
    return error as InvalidTokenError;
  }
  throw new Error("expected a rejection");
}

let issuer: TestIssuer;
let verifier: Verifier;

function verifierFor(extra: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    ...extra,
  } as VerifierOptions);
}

beforeAll(async () => {
  issuer = await createTestIssuer({
    algorithms: [
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
    ],
  });
  verifier = verifierFor();
});
afterAll(() => issuer.close());
afterEach(() => {
  vi.useRealTimers();
});

describe("verify: signatures and algorithms", () => {
  it.each<TestAlgorithm>([
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
  ])("accepts a %s token and yields a typed identity", async (alg) => {
    const token = await issuer.sign(
      { sub: "omochi", role: "standard user", scope: "a b" },
      { alg },
    );
    const identity = await verifier.verify(token);
    expect(identity.sub).toBe("omochi");
    expect(identity.roles).toEqual(["standard user"]);
    expect(identity.scopes).toEqual(["a", "b"]);
    expect(identity.header.alg).toBe(alg);
    expect(identity.issuer).toBe(issuer.issuer);
    expect(identity.expiresAt.getTime()).toBe((identity.claims.exp ?? 0) * 1000);
    expect(Object.isFrozen(identity.claims)).toBe(true);
  });

  it("refuses alg none in every casing without fetching keys", async () => {
    const fresh = await createTestIssuer();
    const v = createVerifier({
      jwksUri: fresh.jwksUri,
      issuer: fresh.issuer,
      audience: fresh.audience,
    });
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      const token = createUnsecuredToken(
        { sub: "x", iss: fresh.issuer, aud: fresh.audience, exp: 2e9 },
        { alg },
      );
      const error = await rejection(v.verify(token));
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(["alg_not_allowed", "malformed_token"]).toContain(error.reason);
    }
    expect(fresh.requests.jwks).toBe(0);
    await fresh.close();
  });

  it("refuses an HS256 token signed with the published RSA key as the secret", async () => {
    const publicJwk = issuer.keys[0]!.publicJwk;
    const token = await signHmacToken(
      new TextEncoder().encode(JSON.stringify(publicJwk)),
      { sub: "x", iss: issuer.issuer, aud: issuer.audience, exp: 2e9 },
      { kid: publicJwk.kid },
    );
    const error = await rejection(verifier.verify(token));
    expect(error.reason).toBe("alg_not_allowed");
  });

  it("refuses a tampered payload", async () => {
    const token = await issuer.sign({ role: "standard user" });
    const error = await rejection(verifier.verify(tamperPayload(token, { role: "admin" })));
    expect(error.reason).toBe("signature_invalid");
    expect(error.status).toBe(401);
  });

  it("refuses a token signed by another key that claims a published kid", async () => {
    const attacker = await generateTestKey("RS256", issuer.keys[0]!.kid);
    const token = await signToken(attacker, {
      sub: "x",
      iss: issuer.issuer,
      aud: issuer.audience,
      exp: 2e9,
    });
    expect((await rejection(verifier.verify(token))).reason).toBe("signature_invalid");
  });

  it("ignores jku, x5u and embedded jwk headers", async () => {
    const attacker = await generateTestKey("RS256", "evil");
    const token = await signToken(
      attacker,
      { sub: "x", iss: issuer.issuer, aud: issuer.audience, exp: 2e9 },
      { jku: "http://127.0.0.1:1/jwks.json", x5u: "http://127.0.0.1:1/x", jwk: attacker.publicJwk },
    );
    const error = await rejection(verifier.verify(token));
    expect(error).toBeInstanceOf(InvalidTokenError);
  });

  it("refuses an ES256 token whose kid names an RSA key", async () => {
    const rsaKid = issuer.keys.find((key) => key.alg === "RS256")!.kid;
    const token = await issuer.sign({}, { alg: "ES256", header: { kid: rsaKid } });
    expect((await rejection(verifier.verify(token))).reason).toBe("unknown_kid");
  });

  it("refuses unknown crit headers and unencoded payloads", async () => {
    const crit = await issuer.sign({}, { header: { crit: ["exp-x"], "exp-x": 1 } });
    expect((await rejection(verifier.verify(crit))).status).toBe(401);
    const b64 = await issuer.sign({}, { header: { crit: ["b64"], b64: false } });
    expect((await rejection(verifier.verify(b64))).status).toBe(401);
    const strayB64 = await issuer.sign({}, { header: { b64: false } });
    expect((await rejection(verifier.verify(strayB64))).reason).toBe("unsupported_header");
  });

  it("refuses malformed and oversized tokens before any parsing", async () => {
    for (const token of ["abc", "a.b", "a.b.c.d", "a.b.c.d.e", "!!.??.**", "e30.e30.", ""]) {
      expect((await rejection(verifier.verify(token))).status).toBe(401);
    }
    const big = `${"a".repeat(20_000)}.e30.sig`;
    expect((await rejection(verifier.verify(big))).reason).toBe("token_too_large");
  });

  it("honours a restricted algorithm list", async () => {
    const v = verifierFor({ algorithms: ["ES256"] });
    expect((await rejection(v.verify(await issuer.sign({}, { alg: "RS256" })))).reason).toBe(
      "alg_not_allowed",
    );
    await expect(v.verify(await issuer.sign({}, { alg: "ES256" }))).resolves.toBeTruthy();
  });
});

describe("verify: claims", () => {
  it("requires exp", async () => {
    const token = await issuer.sign({}, { expiresInSec: null });
    expect((await rejection(verifier.verify(token))).reason).toBe("claim_missing");
  });

  it("refuses an expired token, within the clock tolerance only", async () => {
    expect(
      (await rejection(verifier.verify(await issuer.sign({}, { expiresInSec: -10 })))).reason,
    ).toBe("token_expired");
    await expect(
      verifier.verify(await issuer.sign({}, { expiresInSec: -2 })),
    ).resolves.toBeTruthy();
    const strict = verifierFor({ clockToleranceSec: 0 });
    expect(
      (await rejection(strict.verify(await issuer.sign({}, { expiresInSec: -2 })))).description,
    ).toBe("The access token expired");
  });

  it("refuses nbf and iat in the future", async () => {
    expect(
      (await rejection(verifier.verify(await issuer.sign({}, { notBeforeSec: 60 })))).reason,
    ).toBe("token_not_yet_valid");
    expect(
      (await rejection(verifier.verify(await issuer.sign({}, { issuedAtSec: 3600 })))).reason,
    ).toBe("token_issued_in_future");
  });

  it("refuses claims of the wrong type", async () => {
    for (const claims of [
      { exp: "2000000000" },
      { aud: { a: 1 } },
      { iss: 5 },
      { nbf: "x" },
      { sub: 7 },
    ]) {
      expect((await rejection(verifier.verify(await issuer.sign(claims)))).status).toBe(401);
    }
  });

  it("checks issuer and audience, including arrays", async () => {
    expect(
      (await rejection(verifier.verify(await issuer.sign({ iss: "https://evil" })))).reason,
    ).toBe("issuer_mismatch");
    expect(
      (await rejection(verifier.verify(await issuer.sign({ aud: "https://other" })))).reason,
    ).toBe("audience_mismatch");
    await expect(
      verifier.verify(await issuer.sign({ aud: ["https://other", issuer.audience as string] })),
    ).resolves.toBeTruthy();
    const multi = verifierFor({
      issuer: ["https://a", issuer.issuer],
      audience: ["x", issuer.audience as string],
    });
    await expect(multi.verify(await issuer.sign())).resolves.toBeTruthy();
  });

  it("skips issuer and audience only when given null", async () => {
    const open = verifierFor({ issuer: null, audience: null });
    await expect(
      open.verify(await issuer.sign({ iss: "https://any", aud: "any" })),
    ).resolves.toBeTruthy();
  });

  it("checks maxTokenAgeSec, typ and requiredClaims", async () => {
    const aged = verifierFor({ maxTokenAgeSec: 60 });
    expect(
      (await rejection(aged.verify(await issuer.sign({}, { issuedAtSec: -600 })))).reason,
    ).toBe("token_too_old");
    const typed = verifierFor({ typ: "at+jwt" });
    expect((await rejection(typed.verify(await issuer.sign()))).reason).toBe("typ_mismatch");
    await expect(
      typed.verify(await issuer.sign({}, { header: { typ: "at+jwt" } })),
    ).resolves.toBeTruthy();
    const required = verifierFor({ requiredClaims: ["tenant"] });
    expect((await rejection(required.verify(await issuer.sign()))).reason).toBe("claim_missing");
    await expect(required.verify(await issuer.sign({ tenant: "t1" }))).resolves.toBeTruthy();
  });

  it("rechecks expiry of a cached token against the clock", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const token = await issuer.sign({}, { expiresInSec: 60 });
    await verifier.verify(token);
    vi.setSystemTime(Date.now() + 120_000);
    expect((await rejection(verifier.verify(token))).reason).toBe("token_expired");
  });
});

describe("roles and scopes", () => {
  it("keeps a role string whole and reads nested and namespaced paths", async () => {
    const v = verifierFor({
      rolesClaim: [
        ["role"],
        ["realm_access", "roles"],
        ["cognito:groups"],
        ["https://example.com/roles"],
      ],
    });
    const identity = await v.verify(
      await issuer.sign({
        role: "standard user",
        realm_access: { roles: ["admin", 7, "ops"] },
        "cognito:groups": ["team a"],
        "https://example.com/roles": "auditor",
      }),
    );
    expect(identity.roles).toEqual(["standard user", "admin", "ops", "team a", "auditor"]);
  });

  it("treats roles of the wrong type as none, and reads scp", async () => {
    const identity = await verifier.verify(
      await issuer.sign({ role: { admin: true }, scp: ["a", "b c"] }),
    );
    expect(identity.roles).toEqual([]);
    expect(identity.scopes).toEqual(["a", "b", "c"]);
    expect((await verifier.verify(await issuer.sign({ role: 42 }))).roles).toEqual([]);
  });
});

describe("configuration", () => {
  it("requires issuer and audience in the options form", () => {
    expect(() => createVerifier({ jwksUri: issuer.jwksUri } as unknown as VerifierOptions)).toThrow(
      ConfigurationError,
    );
    expect(() =>
      createVerifier({ jwksUri: issuer.jwksUri, issuer: "x" } as unknown as VerifierOptions),
    ).toThrow(/audience is required/);
    expect(() => createVerifier({ jwksUri: issuer.jwksUri, issuer: "", audience: null })).toThrow(
      ConfigurationError,
    );
  });

  it("refuses HMAC and none in the algorithm list", () => {
    for (const alg of ["HS256", "none"]) {
      expect(() =>
        createVerifier({
          jwksUri: issuer.jwksUri,
          issuer: null,
          audience: null,
          algorithms: [alg] as never,
        }),
      ).toThrow(ConfigurationError);
    }
  });

  it("refuses a plain-http JWKS URI off loopback unless allowed by name", () => {
    const options = { jwksUri: "http://auth.example.com/jwks.json", issuer: null, audience: null };
    expect(() => createVerifier(options)).toThrow(/https/);
    expect(() => createVerifier({ ...options, allowInsecureJwksUri: true })).not.toThrow();
    expect(() => createVerifier({ ...options, jwksUri: "not a url" })).toThrow(ConfigurationError);
  });

  it("refuses bad numbers and unknown key source options", () => {
    expect(() => verifierFor({ clockToleranceSec: -1 })).toThrow(ConfigurationError);
    expect(() => verifierFor({ keySource: { nope: 1 } as never })).toThrow(/not an option/);
    expect(() => verifierFor({ keys: { keys: [] } })).toThrow(/either jwksUri or keys/);
    expect(() => createVerifier({ issuer: null, audience: null })).toThrow(/jwksUri, keys/);
  });

  it("warns once, in words, that the shorthand checks no issuer or audience", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    const shorthand = createVerifier(`${issuer.jwksUri}?shorthand`);
    createVerifier(`${issuer.jwksUri}?shorthand`);
    await new Promise((resolve) => setImmediate(resolve));
    process.off("warning", onWarning);
    expect(
      warnings.filter((message) => message.includes("WITHOUT checking issuer or audience")),
    ).toHaveLength(1);
    await expect(
      shorthand.verify(await issuer.sign({ iss: "https://any", aud: "x" })),
    ).resolves.toBeTruthy();
  });
});

describe("static keys", () => {
  it("verifies with a JWKS object, a PEM and a KeyObject", async () => {
    const key = await generateTestKey("ES256", "static-1");
    const token = await signToken(key, {
      sub: "s",
      iss: "i",
      aud: "a",
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    const jwksVerifier = createVerifier({
      keys: { keys: [key.publicJwk] },
      issuer: "i",
      audience: "a",
    });
    expect((await jwksVerifier.verify(token)).sub).toBe("s");
    const pem = await exportSPKI(key.publicKey);
    expect(
      (await createVerifier({ keys: pem, issuer: "i", audience: "a" }).verify(token)).sub,
    ).toBe("s");
    const other = await generateTestKey("ES256");
    const wrong = createVerifier({
      keys: await exportSPKI(other.publicKey),
      issuer: "i",
      audience: "a",
    });
    expect((await rejection(wrong.verify(token))).reason).toBe("signature_invalid");
  });

  it("refuses symmetric and short RSA static keys at start-up", () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => createVerifier({ keys: publicKey, issuer: null, audience: null })).toThrow(/2048/);
    expect(() =>
      createVerifier({
        keys: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----",
        issuer: null,
        audience: null,
      }),
    ).toThrow(ConfigurationError);
  });

  it("reports a static JWKS with no usable key as a configuration error, never a 401", async () => {
    const sig = await generateTestKey("RS256", "sig");
    const v = createVerifier({
      keys: { keys: [{ ...sig.publicJwk, use: "enc" }] },
      issuer: null,
      audience: null,
    });
    await expect(v.ready()).rejects.toBeInstanceOf(ConfigurationError);
    await expect(v.verify(await signToken(sig, { exp: 2e9 }))).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });

  it("ignores enc keys, symmetric keys and RSA keys under 2048 bits in a JWKS", async () => {
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const smallKey = {
      ...(await generateTestKey("RS256", "small")),
      privateKey: await crypto.subtle.importKey(
        "pkcs8",
        small.privateKey.export({ type: "pkcs8", format: "der" }),
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["sign"],
      ),
    };
    const smallJwk = { ...(await exportJWK(small.publicKey)), kid: "small", alg: "RS256" };
    const own = await createTestIssuer();
    try {
      const sig = own.keys[0]!;
      own.publishJwk(smallJwk);
      own.publishJwk({ ...sig.publicJwk, kid: "enc", use: "enc" });
      own.publishJwk({ kty: "oct", k: "c2VjcmV0", kid: "oct", alg: "HS256" });
      const events: MeishiEvent[] = [];
      const v = createVerifier({
        jwksUri: own.jwksUri,
        issuer: null,
        audience: null,
        logger: false,
        onEvent: (event) => events.push(event),
      });
      await v.ready();
      const ignored = Object.fromEntries(
        events.flatMap((event) => (event.type === "key_ignored" ? [[event.kid, event.why]] : [])),
      );
      expect(ignored).toEqual({
        small: "RSA key below 2048 bits",
        enc: "use is enc",
        oct: "symmetric key",
      });
      const claims = { exp: Math.floor(Date.now() / 1000) + 60 };
      expect((await rejection(v.verify(await signToken(smallKey, claims)))).reason).toBe(
        "unknown_kid",
      );
      expect(
        (await rejection(v.verify(await signToken({ ...sig, kid: "enc" }, claims)))).reason,
      ).toBe("unknown_kid");
      await expect(v.verify(await signToken(sig, claims))).resolves.toBeTruthy();
    } finally {
      await own.close();
    }
  });
});

describe("authenticate", () => {
  it("extracts and verifies, or refuses a missing token", async () => {
    const token = await issuer.sign({ sub: "a" });
    expect(
      (await verifier.authenticate({ headers: { authorization: `Bearer ${token}` } })).sub,
    ).toBe("a");
    await expect(verifier.authenticate({ headers: {} })).rejects.toBeInstanceOf(MissingTokenError);
    await expect(
      verifier.authenticate({ headers: {} }, { optional: true }),
    ).resolves.toBeUndefined();
    await expect(
      verifier.authenticate({ headers: { authorization: "Bearer x.y.z" } }, { optional: true }),
    ).rejects.toBeInstanceOf(InvalidTokenError);
    expect((await verifier.authenticate({ headers: {} }, { getToken: () => token })).sub).toBe("a");
  });

  it("checks revocation on every request, after the cache, and answers 503 when it fails", async () => {
    const revoked = new Set<string>();
    let storeDown = false;
    const v = verifierFor({
      isRevoked: (identity) => {
        if (storeDown) throw new Error("redis down");
        return revoked.has(String(identity.claims.jti));
      },
    });
    const token = await issuer.sign({ jti: "j1" });
    await v.verify(token);
    revoked.add("j1");
    expect((await rejection(v.verify(token))).reason).toBe("token_revoked");
    storeDown = true;
    const error = await rejection(v.verify(token));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.status).toBe(503);
  });

  it("reports every rejection as an event with a reason", async () => {
    const events: MeishiEvent[] = [];
    const v = verifierFor({ onEvent: (event) => events.push(event) });
    await rejection(v.verify("a.b.c"));
    expect(events.find((event) => event.type === "token_rejected")).toMatchObject({
      reason: "malformed_token",
      status: 401,
    });
  });
});
