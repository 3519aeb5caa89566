import { createTestIssuer, generateTestKey, signToken, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

const checked = () => [
  "--jwks",
  issuer.jwksUri,
  "--issuer",
  issuer.issuer,
  "--audience",
  issuer.audience as string,
];

describe("meishi verify", () => {
  it("exits 0 for a valid token and prints who it is for", async () => {
    const token = await issuer.sign({ sub: "00123", role: "standard user" });
    const result = await runCli(["verify", token, ...checked(), "--role", "standard user"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^✓ Valid\. Signed by key "[^"]+" \(RS256\)/);
    expect(result.stdout).toContain("sub     00123");
    expect(result.stdout).not.toContain("Not checked");
  });

  it("says which claims it did not check without --issuer and --audience", async () => {
    const result = await runCli(["verify", await issuer.sign(), "--jwks", issuer.jwksUri]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Not checked: issuer (no --issuer), audience (no --audience).");
  });

  it("finds the keys by discovery from --issuer alone", async () => {
    const result = await runCli([
      "verify",
      await issuer.sign(),
      "--issuer",
      issuer.issuer,
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: true,
      sub: "user-123",
      notChecked: ["audience (no --audience)"],
    });
  });

  it("explains an expired token in one sentence with the reason code", async () => {
    const result = await runCli([
      "verify",
      await issuer.sign({}, { expiresInSec: -7300 }),
      ...checked(),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^✗ Invalid\. The expiry check failed: expected exp after now \(.+\), the token expired 2 h ago \(.+\)\. \(reason: token_expired\)\n$/,
    );
  });

  it("names the expected and actual audience", async () => {
    const result = await runCli([
      "verify",
      await issuer.sign({ aud: "https://other.example" }),
      ...checked(),
      "--json",
    ]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      reason: "audience_mismatch",
      code: "invalid_token",
      explanation: `The audience check failed: expected aud "${issuer.audience}", the token has "https://other.example".`,
    });
  });

  it("names the expected and actual issuer", async () => {
    const result = await runCli([
      "verify",
      await issuer.sign({ iss: "https://evil.example" }),
      ...checked(),
    ]);
    expect(result.stdout).toContain(
      `expected iss "${issuer.issuer}", the token has "https://evil.example"`,
    );
    expect(result.stdout).toContain("(reason: issuer_mismatch)");
  });

  it("points out an issuer that differs only by a trailing slash", async () => {
    const result = await runCli([
      "verify",
      await issuer.sign(),
      "--jwks",
      issuer.jwksUri,
      "--issuer",
      `${issuer.issuer}/`,
    ]);
    expect(result.stdout).toContain(
      `expected iss "${issuer.issuer}/", the token has "${issuer.issuer}" (they differ only by a trailing slash).`,
    );
  });

  it("names the roles wanted and the roles held", async () => {
    const token = await issuer.sign({ role: "standard user" });
    const result = await runCli(["verify", token, ...checked(), "--role", "admin"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'The role check failed: expected any of "admin", the token has "standard user". (reason: role_missing)',
    );
  });

  it("points at --roles-claim when the roles sit in another claim", async () => {
    const token = await issuer.sign({ roles: ["admin"] });
    const result = await runCli(["verify", token, ...checked(), "--role", "admin"]);
    expect(result.stdout).toContain(
      'expected any of "admin", the token has no roles in its role claim but has "roles" (try --roles-claim).',
    );
    const fixed = await runCli([
      "verify",
      token,
      ...checked(),
      "--role",
      "admin",
      "--roles-claim",
      "roles",
    ]);
    expect(fixed.code).toBe(0);
  });

  it("names the scopes wanted and held", async () => {
    const token = await issuer.sign({ scope: "orders:read" });
    const result = await runCli([
      "verify",
      token,
      ...checked(),
      "--scope",
      "orders:write",
      "--json",
    ]);
    expect(JSON.parse(result.stdout).explanation).toBe(
      'The scope check failed: expected all of "orders:write", the token has "orders:read".',
    );
  });

  it("explains a signature by a key the issuer never published", async () => {
    const attacker = await generateTestKey("RS256", issuer.keys[0]!.kid);
    const now = Math.floor(Date.now() / 1000);
    const forged = await signToken(attacker, {
      iss: issuer.issuer,
      aud: issuer.audience,
      exp: now + 60,
    });
    const result = await runCli(["verify", forged, ...checked()]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("The signature check failed");
    expect(result.stdout).toContain("(reason: signature_invalid)");
  });

  it("explains an unknown kid", async () => {
    const result = await runCli([
      "verify",
      await issuer.sign({}, { header: { kid: "nope" } }),
      ...checked(),
    ]);
    expect(result.stdout).toContain(`expected a key with kid "nope" at ${issuer.jwksUri}`);
    expect(result.stdout).toContain("(reason: unknown_kid)");
  });

  it("refuses the article's sample token", async () => {
    const article =
      "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDEyMyIsIm5hbWUiOiJvbW9jaGkiLCJyb2xlIjoic3RhbmRhcmQgdXNlciIsImlhdCI6MTUxNjIzOTAyMn0.SignatureHere";
    const result = await runCli(["verify", article, "--jwks", issuer.jwksUri, "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      reason: "malformed_token",
      explanation: expect.stringMatching(
        /^The format check failed: expected a well-formed JWS, .*signature/,
      ),
    });
  });

  it("explains a JWKS that is down", async () => {
    issuer.setFault({ kind: "status", status: 500 }, { endpoint: "jwks" });
    try {
      const result = await runCli(["verify", await issuer.sign(), ...checked()]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        `The key fetch failed: expected a JWKS from ${issuer.jwksUri}, got http_status`,
      );
      expect(result.stdout).toContain("(reason: keys_unavailable)");
    } finally {
      issuer.setFault(null);
    }
  });

  it("reports a DPoP-bound token as such", async () => {
    const token = await issuer.sign({
      cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" },
    });
    const text = await runCli(["verify", token, ...checked()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      "DPoP-bound token (cnf.jkt = 0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I)",
    );
    const json = await runCli(["verify", token, ...checked(), "--json"]);
    expect(JSON.parse(json.stdout).dpop).toEqual({
      jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
    });
  });

  it("explains text that is not a JWT at all", async () => {
    const result = await runCli(["verify", "garbage", "--jwks", issuer.jwksUri]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "The format check failed: expected a JWS compact token (three base64url parts with a JSON header and payload), the input is not one",
    );
  });

  it("exits 2 without --jwks or --issuer", async () => {
    const result = await runCli(["verify", await issuer.sign()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("give --jwks <uri> or --issuer <url>");
  });

  it("exits 2 for --alg HS256", async () => {
    const result = await runCli([
      "verify",
      await issuer.sign(),
      "--jwks",
      issuer.jwksUri,
      "--alg",
      "HS256",
    ]);
    expect(result.code).toBe(2);
  });
});
