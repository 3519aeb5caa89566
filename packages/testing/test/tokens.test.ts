import { createLocalJWKSet, errors, exportSPKI, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  createUnsecuredToken,
  decodeTokenParts,
  generateTestKey,
  signHmacToken,
  signToken,
  TEST_ALGORITHMS,
  tamperPayload,
} from "../src/index.js";

describe("signToken", () => {
  it.each(TEST_ALGORITHMS)(
    "signs a %s token that jose verifies against the public JWK",
    async (alg) => {
      const key = await generateTestKey(alg);
      const token = await signToken(key, { sub: "alice" });
      const jwks = createLocalJWKSet({ keys: [key.publicJwk] });
      const { payload, protectedHeader } = await jwtVerify(token, jwks);
      expect(payload).toEqual({ sub: "alice" });
      expect(protectedHeader).toEqual({ alg, kid: key.kid });
    },
  );

  it("adds header fields, overrides them and removes those set to undefined", async () => {
    const key = await generateTestKey("RS256");
    const token = await signToken(
      key,
      { sub: "x", gone: undefined },
      { typ: "at+jwt", jku: "https://evil.example/jwks", crit: ["exp"], kid: undefined },
    );
    const { header, payload } = decodeTokenParts(token);
    expect(header).toEqual({
      alg: "RS256",
      typ: "at+jwt",
      jku: "https://evil.example/jwks",
      crit: ["exp"],
    });
    expect(payload).toEqual({ sub: "x" });
  });

  it("signs with the key's algorithm even when the header claims another", async () => {
    const key = await generateTestKey("RS256");
    const token = await signToken(key, { sub: "x" }, { alg: "RS512" });
    expect(decodeTokenParts(token).header.alg).toBe("RS512");
    const { alg: _claimedAlg, ...withoutAlg } = key.publicJwk;
    const jwks = createLocalJWKSet({ keys: [withoutAlg] });
    await expect(jwtVerify(token, jwks)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
  });

  it("produces a token from an attacker key that fails against the real key with the same kid", async () => {
    const real = await generateTestKey("ES256", "shared");
    const attacker = await generateTestKey("ES256", "shared");
    const token = await signToken(attacker, { sub: "admin" });
    const jwks = createLocalJWKSet({ keys: [real.publicJwk] });
    await expect(jwtVerify(token, jwks)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
  });
});

describe("signHmacToken and createUnsecuredToken", () => {
  it("signs HS256 with a public key PEM as the secret (algorithm confusion)", async () => {
    const key = await generateTestKey("RS256");
    const pem = await exportSPKI(key.publicKey);
    const token = await signHmacToken(pem, { sub: "admin" }, { kid: key.kid });
    expect(decodeTokenParts(token).header).toEqual({ alg: "HS256", kid: key.kid });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(pem));
    expect(payload.sub).toBe("admin");
  });

  it("picks the hash from HS384 and HS512 headers", async () => {
    const secret = new Uint8Array(64).fill(7);
    for (const alg of ["HS384", "HS512"]) {
      const token = await signHmacToken(secret, { sub: "a" }, { alg });
      await expect(jwtVerify(token, secret, { algorithms: [alg] })).resolves.toBeDefined();
    }
  });

  it("builds an alg none token with an empty signature", () => {
    const token = createUnsecuredToken({ sub: "admin" });
    expect(token.endsWith(".")).toBe(true);
    expect(decodeTokenParts(token)).toEqual({ header: { alg: "none" }, payload: { sub: "admin" } });
  });
});

describe("tamperPayload", () => {
  it("changes claims but keeps header and signature, so jose rejects the token", async () => {
    const key = await generateTestKey("RS256");
    const token = await signToken(key, { sub: "bob", role: "user", keep: 1 });
    const edited = tamperPayload(token, { role: "admin", keep: undefined });
    const [h1, , s1] = token.split(".");
    const [h2, , s2] = edited.split(".");
    expect([h2, s2]).toEqual([h1, s1]);
    expect(decodeTokenParts(edited).payload).toEqual({ sub: "bob", role: "admin" });
    const jwks = createLocalJWKSet({ keys: [key.publicJwk] });
    await expect(jwtVerify(edited, jwks)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
  });
});

describe("decodeTokenParts", () => {
  it("rejects tokens without three parts or with non-object JSON", () => {
    expect(() => decodeTokenParts("a.b")).toThrow(TypeError);
    expect(() => decodeTokenParts("!!.e30.")).toThrow(/header is not base64url-encoded JSON/);
    const arrayPayload = Buffer.from("[1]").toString("base64url");
    expect(() => decodeTokenParts(`e30.${arrayPayload}.`)).toThrow(/payload is not a JSON object/);
  });
});
