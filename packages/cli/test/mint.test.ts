import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { BIN, runCli } from "./run-cli.js";

describe("meishi mint", () => {
  it("mints a token whose JWKS it serves while running, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [
      BIN,
      "mint",
      "--sub",
      "alice",
      "--role",
      "standard user",
      "--scope",
      "orders:read",
      "--scope",
      "orders:write",
      "--claim",
      "tenant=t1",
      "--claim",
      "level=3",
      "--expires-in",
      "15m",
      "--json",
    ]);
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, "line")) as [string];
      const minted = JSON.parse(first) as {
        token: string;
        jwksUri: string;
        issuer: string;
        audience: string;
        serving: boolean;
      };
      expect(minted.serving).toBe(true);

      const verified = await runCli([
        "verify",
        minted.token,
        "--jwks",
        minted.jwksUri,
        "--issuer",
        minted.issuer,
        "--audience",
        minted.audience,
        "--role",
        "standard user",
        "--scope",
        "orders:write",
        "--json",
      ]);
      expect(verified.code).toBe(0);
      const json = JSON.parse(verified.stdout);
      expect(json).toMatchObject({
        valid: true,
        sub: "alice",
        roles: ["standard user"],
        scopes: ["orders:read", "orders:write"],
      });
      expect(json.claims.tenant).toBe("t1");
      expect(json.claims.level).toBe(3);
      expect(json.claims.exp - json.claims.iat).toBe(900);
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
  });

  it("with --no-serve prints the token and exits", async () => {
    const result = await runCli(["mint", "--no-serve", "--audience", "my-api"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Token \(RS256, expires in 5 min\):\n[\w-]+\.[\w-]+\.[\w-]+\n/);
    expect(result.stdout).toContain('audience  "my-api"');
    expect(result.stdout).toContain("never trust it in production");
  });

  it("mints an expired token with --expires-in=-1h", async () => {
    const result = await runCli(["mint", "--no-serve", "--expires-in=-1h"]);
    expect(result.stdout).toMatch(/^Token \(RS256, expired 1 h ago\):/);
  });

  it("exits 2 for a bad --expires-in", async () => {
    expect((await runCli(["mint", "--no-serve", "--expires-in", "soon"])).code).toBe(2);
  });
});
