import { readdirSync, readFileSync } from "node:fs";
import { createTestIssuer, generateTestKey, signToken } from "@meishi/testing";
import { exportSPKI } from "jose";
import { describe, expect, it } from "vitest";
// The portable entry only: what Workers, Deno, Bun and browsers load.
import { ConfigurationError, createVerifier } from "../src/index.js";

describe("the portable entry", () => {
  it("verifies against a JWKS URL and a JWKS object with no Node conveniences", async () => {
    const issuer = await createTestIssuer();
    try {
      const remote = createVerifier({
        jwksUri: issuer.jwksUri,
        issuer: issuer.issuer,
        audience: issuer.audience,
        logger: false,
      });
      expect((await remote.verify(await issuer.sign({ sub: "p" }))).sub).toBe("p");
      const key = await generateTestKey("ES256", "k1");
      const local = createVerifier({
        keys: { keys: [key.publicJwk] },
        issuer: null,
        audience: null,
        logger: false,
      });
      expect((await local.verify(await signToken(key, { sub: "q", exp: 2e9 }))).sub).toBe("q");
    } finally {
      await issuer.close();
    }
  });

  it("refuses a PEM key with a clear configuration error, since only Node can import it", async () => {
    const key = await generateTestKey("ES256");
    const pem = await exportSPKI(key.publicKey);
    expect(() => createVerifier({ keys: pem, issuer: null, audience: null })).toThrow(
      ConfigurationError,
    );
    expect(() => createVerifier({ keys: pem, issuer: null, audience: null })).toThrow(
      /need Node.js/,
    );
  });

  it("imports nothing from Node and uses no Node globals in the built portable files", () => {
    const dist = new URL("../dist/", import.meta.url);
    const nodeOnly = new Set(["index.node.js", "node-keys.js", "node-verify.js"]);
    const offenders: string[] = [];
    for (const file of readdirSync(dist)) {
      if (!file.endsWith(".js") || nodeOnly.has(file)) continue;
      const code = readFileSync(new URL(file, dist), "utf8").replace(
        /\/\*[\s\S]*?\*\/|\/\/.*$/gm,
        "",
      );
      if (/from\s+["']node:|require\(|\bBuffer\b|\bprocess\.|\bsetImmediate\b/.test(code))
        offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
