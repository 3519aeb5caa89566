import {
  createTestIssuer,
  createUnsecuredToken,
  signHmacToken,
  type TestIssuer,
} from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTICLE_TOKEN, runCli } from "./run-cli.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

async function decodeJson(token: string) {
  const result = await runCli(["decode", token, "--json"]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as {
    verified: boolean;
    header: Record<string, unknown>;
    payload: Record<string, unknown>;
    times: { claim: string; value: number; date: string; relative: string }[];
    warnings: { code: string; message: string }[];
    dpop: { jkt: string } | null;
  };
}

describe("meishi decode", () => {
  it("decodes the article's sample token and says decoding is not verifying", async () => {
    const result = await runCli(["decode", ARTICLE_TOKEN]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Decoding is not verifying");
    expect(result.stdout).toContain('"role": "standard user"');
    expect(result.stdout).toContain("iat  2018-01-18T01:30:22.000Z");
    expect(result.stdout).toContain("(signature_malformed)");
    expect(result.stdout).toContain("(missing_exp)");
  });

  it("prints the article token as JSON, marked unverified", async () => {
    const json = await decodeJson(ARTICLE_TOKEN);
    expect(json).toEqual({
      verified: false,
      header: { alg: "RS256", typ: "JWT" },
      payload: { sub: "00123", name: "omochi", role: "standard user", iat: 1516239022 },
      times: [
        {
          claim: "iat",
          value: 1516239022,
          date: "2018-01-18T01:30:22.000Z",
          relative: expect.stringMatching(/^issued \d+ y ago$/),
        },
      ],
      warnings: [
        { code: "signature_malformed", message: expect.stringContaining("SignatureHere") },
        { code: "missing_exp", message: expect.any(String) },
      ],
      dpop: null,
    });
  });

  it("reads the token from stdin, with a Bearer prefix", async () => {
    const result = await runCli(["decode", "--json"], { input: `Bearer ${ARTICLE_TOKEN}\n` });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).payload.sub).toBe("00123");
  });

  it("joins a token that a terminal wrapped over several lines", async () => {
    const wrapped = `${ARTICLE_TOKEN.slice(0, 60)}\n  ${ARTICLE_TOKEN.slice(60, 120)}\n${ARTICLE_TOKEN.slice(120)}`;
    const result = await runCli(["decode", "--json"], { input: wrapped });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).payload.sub).toBe("00123");
  });

  it("reads stdin when the token argument is -", async () => {
    const result = await runCli(["decode", "-", "--json"], { input: ARTICLE_TOKEN });
    expect(JSON.parse(result.stdout).payload.name).toBe("omochi");
  });

  it("says when a token expires, in minutes", async () => {
    const json = await decodeJson(await issuer.sign({}, { expiresInSec: 270 }));
    expect(json.times.find((time) => time.claim === "exp")?.relative).toBe("expires in 4 min");
    expect(json.warnings).toEqual([]);
  });

  it("says how long ago a token expired, and warns", async () => {
    const json = await decodeJson(await issuer.sign({}, { expiresInSec: -7300 }));
    expect(json.times.find((time) => time.claim === "exp")?.relative).toBe("expired 2 h ago");
    expect(json.warnings.map((warning) => warning.code)).toEqual(["expired"]);
  });

  it("warns about alg none", async () => {
    const json = await decodeJson(
      createUnsecuredToken({ sub: "x", exp: 4102444800, iat: 4102444000 }),
    );
    expect(json.warnings.map((warning) => warning.code)).toEqual(["alg_none"]);
  });

  it("warns about HMAC", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signHmacToken("secret", { sub: "x", iat: now, exp: now + 60 });
    const json = await decodeJson(token);
    expect(json.warnings.map((warning) => warning.code)).toEqual(["hmac"]);
  });

  it("warns about a lifetime over a day (pinned at 24 h)", async () => {
    const overDay = await decodeJson(await issuer.sign({}, { expiresInSec: 24 * 3600 + 60 }));
    const day = await decodeJson(await issuer.sign({}, { expiresInSec: 24 * 3600 }));
    expect(overDay.warnings.map((warning) => warning.code)).toEqual(["long_lifetime"]);
    expect(day.warnings).toEqual([]);
  });

  it("warns about jku and x5u key URLs in the header", async () => {
    const token = await issuer.sign(
      {},
      { header: { jku: "https://evil.example/jwks.json", x5u: "https://evil.example/cert.pem" } },
    );
    const json = await decodeJson(token);
    expect(json.warnings.map((warning) => warning.code)).toEqual([
      "key_url_header",
      "key_url_header",
    ]);
    expect(json.warnings[0]?.message).toContain("https://evil.example/jwks.json");
  });

  it("reports a DPoP-bound token", async () => {
    const json = await decodeJson(
      await issuer.sign({ cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } }),
    );
    expect(json.dpop).toEqual({ jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" });
    const text = await runCli(["decode", await issuer.sign({ cnf: { jkt: "abc" } })]);
    expect(text.stdout).toContain("DPoP-bound");
  });

  it("exits 1 for text that is not a JWT", async () => {
    const result = await runCli(["decode", "hello"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Not a JWT");
    expect(result.stdout).toBe("");
  });

  it("exits 2 when stdin is empty", async () => {
    const result = await runCli(["decode"], { input: "" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("stdin was empty");
  });
});
