import { generateKeyPairSync } from "node:crypto";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { exportJWK } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

let issuer: TestIssuer;

beforeEach(async () => {
  issuer = await createTestIssuer({
    algorithms: ["RS256", "ES256"],
    cacheControl: "public, max-age=600",
  });
});
afterEach(() => issuer.close());

interface JwksJson {
  source: string[];
  keys: {
    kid: string | null;
    kty: string | null;
    alg: string | null;
    use: string | null;
    strength: string | null;
  }[];
  caching: Record<string, string>;
  problems: { code: string; message: string }[];
}

async function jwksJson(argument: string): Promise<{ code: number | null; json: JwksJson }> {
  const result = await runCli(["jwks", argument, "--json"]);
  return { code: result.code, json: JSON.parse(result.stdout) as JwksJson };
}

describe("meishi jwks", () => {
  it("lists the keys of a JWKS URL with size or curve and the caching headers", async () => {
    const { code, json } = await jwksJson(issuer.jwksUri);
    expect(code).toBe(0);
    expect(json.source).toEqual([issuer.jwksUri]);
    expect(json.keys).toEqual([
      { kid: issuer.keys[0]!.kid, kty: "RSA", alg: "RS256", use: "sig", strength: "RSA 2048" },
      { kid: issuer.keys[1]!.kid, kty: "EC", alg: "ES256", use: "sig", strength: "P-256" },
    ]);
    expect(json.caching["cache-control"]).toBe("public, max-age=600");
    expect(json.problems).toEqual([]);
  });

  it("follows OpenID discovery from an issuer URL", async () => {
    const { json } = await jwksJson(issuer.issuer);
    expect(json.source).toEqual([issuer.discoveryUri, issuer.jwksUri]);
    expect(json.keys).toHaveLength(2);
  });

  it("follows a discovery document URL", async () => {
    const { json } = await jwksJson(issuer.discoveryUri);
    expect(json.source).toEqual([issuer.discoveryUri, issuer.jwksUri]);
  });

  it("reports a discovery document whose issuer does not match", async () => {
    issuer.setDiscovery({ issuer: "https://evil.example" });
    const { code, json } = await jwksJson(issuer.issuer);
    expect(code).toBe(1);
    expect(json.problems.map((problem) => problem.code)).toEqual(["issuer_mismatch"]);
    expect(json.problems[0]?.message).toContain('"https://evil.example", expected "');
  });

  it("reports duplicate kids, encryption keys and weak RSA keys", async () => {
    await issuer.addKey("RS256", { kid: issuer.keys[0]!.kid });
    await issuer.addKey("ES256", { kid: "enc-key", use: "enc" });
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    issuer.publishJwk({ ...(await exportJWK(publicKey)), kid: "weak", alg: "RS256", use: "sig" });
    const { code, json } = await jwksJson(issuer.jwksUri);
    expect(code).toBe(1);
    expect(json.problems.map((problem) => problem.code).sort()).toEqual([
      "duplicate_kid",
      "use_enc",
      "weak_key",
    ]);
    expect(json.keys.find((key) => key.kid === "weak")?.strength).toBe("RSA 1024");
  });

  it("reports published private key material", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    issuer.publishJwk({ ...(await exportJWK(privateKey)), kid: "leaked", alg: "ES256" });
    const { json } = await jwksJson(issuer.jwksUri);
    expect(json.problems.map((problem) => problem.code)).toEqual(["private_key"]);
  });

  it("reports a missing Cache-Control header", async () => {
    issuer.setCacheControl(null);
    const result = await runCli(["jwks", issuer.jwksUri]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("(no_cache_control)");
  });

  it("prints a table for people", async () => {
    const result = await runCli(["jwks", issuer.jwksUri]);
    expect(result.stdout).toContain(`Keys from ${issuer.jwksUri}`);
    expect(result.stdout).toMatch(/kid\s+kty\s+alg\s+use\s+size\/curve/);
    expect(result.stdout).toContain("cache-control: public, max-age=600");
    expect(result.stdout).toContain("No problems found.");
  });

  it("prints core's key snapshot of the usable keys, fresh for the server's max-age", async () => {
    await issuer.addKey("ES256", { kid: "enc-key", use: "enc" });
    const before = Date.now();
    const result = await runCli(["jwks", issuer.issuer, "--snapshot"]);
    expect(result.code).toBe(0);
    const snapshot = JSON.parse(result.stdout) as {
      uri: string;
      fetchedAt: number;
      expiresAt: number;
      jwks: { keys: { kid: string }[] };
    };
    expect(snapshot.uri).toBe(issuer.jwksUri);
    expect(snapshot.expiresAt - snapshot.fetchedAt).toBe(600_000);
    expect(snapshot.fetchedAt).toBeGreaterThanOrEqual(before);
    expect(snapshot.jwks.keys.map((key) => key.kid)).toEqual(
      issuer.keys.slice(0, 2).map((key) => key.kid),
    );
  });

  it("refuses a snapshot of keys whose discovery issuer does not match", async () => {
    issuer.setDiscovery({ issuer: "https://evil.example" });
    const result = await runCli(["jwks", issuer.issuer, "--snapshot"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("No snapshot");
  });

  it("exits 1 when the endpoint is down", async () => {
    issuer.setFault({ kind: "status", status: 503 });
    const result = await runCli(["jwks", issuer.jwksUri]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Could not fetch keys");
  });

  it("exits 2 for an argument that is not a URL", async () => {
    expect((await runCli(["jwks", "auth.example.com"])).code).toBe(2);
  });
});
