import { importJWK } from "jose";
import { describe, expect, it } from "vitest";
import { generateTestKey, TEST_ALGORITHMS } from "../src/index.js";

describe("generateTestKey", () => {
  it.each(TEST_ALGORITHMS)("generates an importable %s key with kid, alg and use", async (alg) => {
    const key = await generateTestKey(alg);
    expect(key.alg).toBe(alg);
    expect(key.published).toBe(false);
    expect(key.kid).toMatch(new RegExp(`^${alg.toLowerCase()}-[A-Za-z0-9_-]{8}$`));
    expect(key.publicJwk).toMatchObject({ kid: key.kid, alg, use: "sig" });
    expect(key.publicJwk).not.toHaveProperty("d");
    await expect(importJWK(key.publicJwk, alg)).resolves.toBeDefined();
  });

  it("uses the kid it is given", async () => {
    const key = await generateTestKey("ES256", "attacker");
    expect(key.kid).toBe("attacker");
    expect(key.publicJwk.kid).toBe("attacker");
  });

  it("makes 2048-bit RSA keys and Ed25519 EdDSA keys", async () => {
    const rsa = await generateTestKey("PS256");
    expect(Buffer.from(rsa.publicJwk.n ?? "", "base64url").length).toBe(256);
    const ed = await generateTestKey("EdDSA");
    expect(ed.publicJwk).toMatchObject({ kty: "OKP", crv: "Ed25519" });
  });

  it("gives distinct kids to keys generated without one", async () => {
    const [a, b] = await Promise.all([generateTestKey("ES256"), generateTestKey("ES256")]);
    expect(a.kid).not.toBe(b.kid);
  });
});
