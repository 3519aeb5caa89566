import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createTestIssuer,
  decodeTokenParts,
  generateTestKey,
  signToken,
  TEST_ALGORITHMS,
  type TestIssuer,
  type TestIssuerOptions,
  tamperPayload,
} from "../src/index.js";

const open: TestIssuer[] = [];

async function start(options?: TestIssuerOptions): Promise<TestIssuer> {
  const issuer = await createTestIssuer(options);
  open.push(issuer);
  return issuer;
}

async function publishedKids(issuer: TestIssuer): Promise<string[]> {
  const res = await fetch(issuer.jwksUri);
  const body = (await res.json()) as { keys: { kid: string }[] };
  return body.keys.map((key) => key.kid);
}

function verify(issuer: TestIssuer, token: string) {
  const jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
  return jwtVerify(token, jwks, { issuer: issuer.issuer, audience: issuer.audience });
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((issuer) => issuer.close()));
});

describe("createTestIssuer", () => {
  it("listens on loopback and derives issuer and URIs from its URL", async () => {
    const issuer = await start();
    expect(issuer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(issuer.issuer).toBe(issuer.url);
    expect(issuer.audience).toBe("https://api.meishi.test");
    expect(issuer.jwksUri).toBe(`${issuer.url}/.well-known/jwks.json`);
    expect(issuer.discoveryUri).toBe(`${issuer.url}/.well-known/openid-configuration`);
    expect(issuer.keys).toHaveLength(1);
    expect(issuer.keys[0]).toMatchObject({ alg: "RS256", published: true });
  });

  it("uses the issuer and audience it is given", async () => {
    const issuer = await start({ issuer: "https://auth.example.com/", audience: ["a", "b"] });
    expect(issuer.issuer).toBe("https://auth.example.com/");
    const { payload } = await verify(issuer, await issuer.sign());
    expect(payload).toMatchObject({ iss: "https://auth.example.com/", aud: ["a", "b"] });
  });

  it("serves the published keys as a JWKS with application/json", async () => {
    const issuer = await start({ algorithms: ["ES256", "RS256"] });
    const res = await fetch(issuer.jwksUri);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBeNull();
    const body = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(body.keys.map((key) => key.alg)).toEqual(["ES256", "RS256"]);
    for (const key of body.keys) {
      expect(key).toMatchObject({ use: "sig" });
      expect(key).not.toHaveProperty("d");
    }
  });

  it("answers 404 for other paths and 405 for other methods", async () => {
    const issuer = await start();
    expect((await fetch(`${issuer.url}/nope`)).status).toBe(404);
    const post = await fetch(issuer.jwksUri, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });

  it("rejects invalid options", async () => {
    await expect(createTestIssuer({ algorithms: [] })).rejects.toThrow(RangeError);
    await expect(createTestIssuer({ port: -1 })).rejects.toThrow(RangeError);
    await expect(createTestIssuer({ algorithms: ["HS256" as unknown as "RS256"] })).rejects.toThrow(
      TypeError,
    );
  });
});

describe("sign", () => {
  it("mints tokens that verify against the remote JWKS for every algorithm", async () => {
    const issuer = await start({ algorithms: [...TEST_ALGORITHMS] });
    const jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
    for (const alg of TEST_ALGORITHMS) {
      const token = await issuer.sign({ role: "standard user" }, { alg });
      const { payload, protectedHeader } = await jwtVerify(token, jwks, {
        issuer: issuer.issuer,
        audience: issuer.audience,
      });
      expect(protectedHeader).toEqual({
        alg,
        typ: "JWT",
        kid: issuer.keys.find((key) => key.alg === alg)?.kid,
      });
      expect(payload.role).toBe("standard user");
    }
  });

  it("sets iss, aud, sub, iat, exp and jti by default", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
    const issuer = await start({ tokenLifetimeSec: 60 });
    const now = Date.parse("2030-01-01T00:00:00Z") / 1000;
    const payload = decodeJwt(await issuer.sign());
    expect(payload).toEqual({
      iss: issuer.issuer,
      aud: "https://api.meishi.test",
      sub: "user-123",
      iat: now,
      exp: now + 60,
      jti: expect.any(String),
    });
    expect(decodeJwt(await issuer.sign()).jti).not.toBe(payload.jti);
  });

  it("applies time offsets and can omit exp", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
    const issuer = await start();
    const now = Date.parse("2030-01-01T00:00:00Z") / 1000;
    const shifted = decodeJwt(
      await issuer.sign({}, { expiresInSec: -10, notBeforeSec: 30, issuedAtSec: -20 }),
    );
    expect(shifted).toMatchObject({ exp: now - 10, nbf: now + 30, iat: now - 20 });
    const endless = decodeJwt(await issuer.sign({}, { expiresInSec: null }));
    expect(endless).not.toHaveProperty("exp");
    expect(endless).not.toHaveProperty("nbf");
  });

  it("lets defaultClaims and claims override defaults, and undefined remove them", async () => {
    const issuer = await start({ defaultClaims: { tenant: "acme", sub: "svc" } });
    expect(decodeJwt(await issuer.sign())).toMatchObject({ tenant: "acme", sub: "svc" });
    const payload = decodeJwt(
      await issuer.sign({ sub: "alice", jti: undefined, tenant: undefined }),
    );
    expect(payload.sub).toBe("alice");
    expect(payload).not.toHaveProperty("jti");
    expect(payload).not.toHaveProperty("tenant");
  });

  it("omits kid with kid: null and overrides header fields", async () => {
    const issuer = await start();
    const noKid = decodeTokenParts(await issuer.sign({}, { kid: null })).header;
    expect(noKid).toEqual({ alg: "RS256", typ: "JWT" });
    const header = decodeTokenParts(
      await issuer.sign({}, { header: { typ: "at+jwt", x5u: "https://evil.example", kid: "zzz" } }),
    ).header;
    expect(header).toEqual({
      alg: "RS256",
      typ: "at+jwt",
      x5u: "https://evil.example",
      kid: "zzz",
    });
  });

  it("signs with the key named by kid, published or not", async () => {
    const issuer = await start();
    const hidden = await issuer.addKey("ES256", { publish: false });
    const token = await issuer.sign({}, { kid: hidden.kid });
    expect(decodeTokenParts(token).header).toMatchObject({ alg: "ES256", kid: hidden.kid });
    await expect(verify(issuer, token)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it("throws for an algorithm or kid it does not hold", async () => {
    const issuer = await start();
    await expect(issuer.sign({}, { alg: "ES384" })).rejects.toThrow(/no ES384 key/);
    await expect(issuer.sign({}, { kid: "missing" })).rejects.toThrow(/kid "missing"/);
  });

  it("produces tokens that tamperPayload breaks", async () => {
    const issuer = await start();
    const token = await issuer.sign({ role: "user" });
    await expect(verify(issuer, token)).resolves.toBeDefined();
    const edited = tamperPayload(token, { role: "admin" });
    await expect(verify(issuer, edited)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
  });

  it("is not fooled by an attacker key reusing the published kid", async () => {
    const issuer = await start();
    const attacker = await generateTestKey("RS256", issuer.keys[0]?.kid);
    const forged = await signToken(attacker, decodeJwt(await issuer.sign()));
    await expect(verify(issuer, forged)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
  });
});

describe("keys", () => {
  it("rotate publishes a new signer and keeps the old key published", async () => {
    const issuer = await start();
    const old = issuer.keys[0]?.kid ?? "";
    const next = await issuer.rotate();
    expect(next.kid).not.toBe(old);
    expect(next).toMatchObject({ alg: "RS256", published: true });
    expect(await publishedKids(issuer)).toEqual([old, next.kid]);
    const token = await issuer.sign();
    expect(decodeTokenParts(token).header.kid).toBe(next.kid);
    await expect(verify(issuer, token)).resolves.toBeDefined();
    await expect(verify(issuer, await issuer.sign({}, { kid: old }))).resolves.toBeDefined();
  });

  it("rotate with retireOld unpublishes the replaced key", async () => {
    const issuer = await start({ algorithms: ["RS256", "ES256"] });
    const [rsa, ec] = issuer.keys;
    const next = await issuer.rotate({ alg: "ES256", retireOld: true });
    expect(await publishedKids(issuer)).toEqual([rsa?.kid, next.kid]);
    expect(issuer.keys.find((key) => key.kid === ec?.kid)?.published).toBe(false);
    expect(decodeTokenParts(await issuer.sign({}, { alg: "ES256" })).header.kid).toBe(next.kid);
    expect(decodeTokenParts(await issuer.sign()).header.kid).toBe(rsa?.kid);
  });

  it("addKey publishes extra keys with chosen kid, use and without alg", async () => {
    const issuer = await start();
    await issuer.addKey("ES256", { kid: "enc-key", use: "enc", omitAlg: true });
    await issuer.addKey("EdDSA", { kid: "hidden", publish: false });
    const body = (await (await fetch(issuer.jwksUri)).json()) as {
      keys: Record<string, unknown>[];
    };
    const enc = body.keys.find((key) => key.kid === "enc-key");
    expect(enc).toMatchObject({ kty: "EC", crv: "P-256", use: "enc" });
    expect(enc).not.toHaveProperty("alg");
    expect(body.keys.some((key) => key.kid === "hidden")).toBe(false);
    expect(decodeTokenParts(await issuer.sign({}, { alg: "ES256" })).header.kid).toBe("enc-key");
  });

  it("unpublish, publish and publishJwk change what the JWKS serves", async () => {
    const issuer = await start();
    const kid = issuer.keys[0]?.kid ?? "";
    issuer.publishJwk({ kty: "oct", kid: "raw", k: "c2VjcmV0" });
    expect(await publishedKids(issuer)).toEqual([kid, "raw"]);
    issuer.unpublish(kid);
    issuer.unpublish("raw");
    expect(await publishedKids(issuer)).toEqual([]);
    issuer.publish(kid);
    expect(await publishedKids(issuer)).toEqual([kid]);
    expect(() => issuer.unpublish("nope")).toThrow(/kid "nope"/);
    expect(() => issuer.publish("nope")).toThrow(/kid "nope"/);
  });

  it("returns key snapshots that do not change the issuer when mutated", async () => {
    const issuer = await start();
    const snapshot = issuer.keys[0];
    if (snapshot) snapshot.published = false;
    expect(issuer.keys[0]?.published).toBe(true);
  });
});

describe("discovery and headers", () => {
  it("serves an OpenID configuration pointing at the JWKS", async () => {
    const issuer = await start({ algorithms: ["ES256", "RS256"] });
    const res = await fetch(issuer.discoveryUri);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toMatchObject({
      issuer: issuer.issuer,
      jwks_uri: issuer.jwksUri,
      id_token_signing_alg_values_supported: ["ES256", "RS256"],
    });
  });

  it("applies and resets discovery overrides", async () => {
    const issuer = await start();
    issuer.setDiscovery({ issuer: "https://evil.example", token_endpoint: undefined });
    const overridden = (await (await fetch(issuer.discoveryUri)).json()) as Record<string, unknown>;
    expect(overridden.issuer).toBe("https://evil.example");
    expect(overridden).not.toHaveProperty("token_endpoint");
    issuer.setDiscovery(null);
    const reset = (await (await fetch(issuer.discoveryUri)).json()) as Record<string, unknown>;
    expect(reset.issuer).toBe(issuer.issuer);
  });

  it("sends Cache-Control from the option and from setCacheControl", async () => {
    const issuer = await start({ cacheControl: "max-age=60" });
    expect((await fetch(issuer.jwksUri)).headers.get("cache-control")).toBe("max-age=60");
    issuer.setCacheControl("no-store");
    expect((await fetch(issuer.discoveryUri)).headers.get("cache-control")).toBe("no-store");
    issuer.setCacheControl(null);
    expect((await fetch(issuer.jwksUri)).headers.get("cache-control")).toBeNull();
  });
});

describe("request counting", () => {
  it("counts JWKS, discovery and all requests live, and resets", async () => {
    const issuer = await start();
    const counts = issuer.requests;
    await fetch(issuer.jwksUri);
    await fetch(issuer.jwksUri);
    await fetch(issuer.discoveryUri);
    await fetch(`${issuer.url}/other`);
    expect(counts).toEqual({ jwks: 2, discovery: 1, total: 4 });
    issuer.resetRequestCounts();
    expect(issuer.requests).toEqual({ jwks: 0, discovery: 0, total: 0 });
  });

  it("counts the single fetch a remote JWKS set makes for many verifications", async () => {
    const issuer = await start();
    const jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
    for (let i = 0; i < 3; i += 1) {
      await jwtVerify(await issuer.sign(), jwks, { issuer: issuer.issuer });
    }
    expect(issuer.requests.jwks).toBe(1);
  });
});

describe("close", () => {
  it("is idempotent and stops the server", async () => {
    const issuer = await createTestIssuer();
    await fetch(issuer.jwksUri);
    await Promise.all([issuer.close(), issuer.close()]);
    await issuer.close();
    await expect(fetch(issuer.jwksUri)).rejects.toThrow(TypeError);
  });

  it("finishes with a hanging request in flight, which then fails", async () => {
    const issuer = await createTestIssuer();
    issuer.setFault({ kind: "hang" });
    const pending = fetch(issuer.jwksUri);
    await vi.waitFor(() => expect(issuer.requests.jwks).toBe(1));
    await issuer.close();
    await expect(pending).rejects.toThrow(TypeError);
  });

  it("finishes while a slow fault is pending", async () => {
    const issuer = await createTestIssuer();
    issuer.setFault({ kind: "slow", delayMs: 60_000 });
    const pending = fetch(issuer.jwksUri);
    await vi.waitFor(() => expect(issuer.requests.jwks).toBe(1));
    await issuer.close();
    await expect(pending).rejects.toThrow(TypeError);
  });
});
