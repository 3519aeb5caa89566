import { createLocalJWKSet, createRemoteJWKSet, importJWK, jwtVerify } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestIssuer, type TestIssuer } from "../src/index.js";

let issuer: TestIssuer;

beforeEach(async () => {
  issuer = await createTestIssuer({ algorithms: ["RS256", "ES256", "EdDSA"] });
});

afterEach(async () => {
  await issuer.close();
});

describe("setFault", () => {
  it("slow: answers normally, eventually", async () => {
    issuer.setFault({ kind: "slow", delayMs: 150 });
    const res = await fetch(issuer.jwksUri);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keys: unknown[] };
    expect(body.keys).toHaveLength(3);
  });

  it("status: answers the given status with a text body", async () => {
    issuer.setFault({ kind: "status", status: 503 });
    const res = await fetch(issuer.jwksUri);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(await res.text()).toContain("503");
  });

  it("html: answers 200 text/html", async () => {
    issuer.setFault({ kind: "html" });
    const res = await fetch(issuer.jwksUri);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/^<html>/);
  });

  it("invalid-json: answers JSON content-type with a body that does not parse", async () => {
    issuer.setFault({ kind: "invalid-json" });
    const res = await fetch(issuer.jwksUri);
    expect(res.headers.get("content-type")).toBe("application/json");
    await expect(res.json()).rejects.toThrow(SyntaxError);
  });

  it("not-jwks: answers JSON that is not a JWKS", async () => {
    issuer.setFault({ kind: "not-jwks" });
    const res = await fetch(issuer.jwksUri);
    expect(await res.json()).toEqual({ hello: "world" });
  });

  it("bad-keys: serves keys under the real kids that cannot be imported", async () => {
    issuer.setFault({ kind: "bad-keys" });
    const body = (await (await fetch(issuer.jwksUri)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(body.keys.map((key) => key.kid)).toEqual([
      ...issuer.keys.map((key) => key.kid),
      "unknown-kty",
    ]);
    expect(body.keys[0]?.n).toBe("!!not*base64url!!");
    expect(body.keys.slice(1).map((key) => [key.kty, key.crv])).toEqual([
      ["EC", "P-999"],
      ["OKP", "Ed999"],
      ["XYZ", undefined],
    ]);
    const brokenSet = createLocalJWKSet(body as Parameters<typeof createLocalJWKSet>[0]);
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      await expect(jwtVerify(await issuer.sign({}, { alg }), brokenSet)).rejects.toThrow();
    }
    await expect(importJWK(body.keys[1] ?? {}, "ES256")).rejects.toThrow();
    const remote = createRemoteJWKSet(new URL(issuer.jwksUri));
    await expect(jwtVerify(await issuer.sign(), remote)).rejects.toThrow();
  });

  it("huge: streams a JSON body of exactly the requested size", async () => {
    const bytes = 3 * 1024 * 1024 + 7;
    issuer.setFault({ kind: "huge", bytes });
    const res = await fetch(issuer.jwksUri);
    expect(res.headers.get("content-length")).toBe(String(bytes));
    const text = await res.text();
    expect(text.length).toBe(bytes);
    expect(JSON.parse(text)).toEqual({ keys: [] });
  });

  it("huge: copes with a client that stops reading", async () => {
    issuer.setFault({ kind: "huge", bytes: 50 * 1024 * 1024 });
    const controller = new AbortController();
    const res = await fetch(issuer.jwksUri, { signal: controller.signal });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    issuer.setFault(null);
    expect((await fetch(issuer.jwksUri)).status).toBe(200);
  });

  it("redirect: answers 302 with Location, and a followed redirect lands there", async () => {
    const other = await createTestIssuer();
    try {
      issuer.setFault({ kind: "redirect", location: other.jwksUri });
      const manual = await fetch(issuer.jwksUri, { redirect: "manual" });
      expect(manual.status).toBe(302);
      expect(manual.headers.get("location")).toBe(other.jwksUri);
      const followed = (await (await fetch(issuer.jwksUri)).json()) as { keys: { kid: string }[] };
      expect(followed.keys.map((key) => key.kid)).toEqual([other.keys[0]?.kid]);
      issuer.setFault({ kind: "redirect", location: "/elsewhere", status: 307 });
      expect((await fetch(issuer.jwksUri, { redirect: "manual" })).status).toBe(307);
    } finally {
      await other.close();
    }
  });

  it("close: destroys the socket without answering", async () => {
    issuer.setFault({ kind: "close" });
    await expect(fetch(issuer.jwksUri)).rejects.toThrow(TypeError);
    expect(issuer.requests.jwks).toBe(1);
  });

  it("reset-mid-body: sends headers, then breaks the body", async () => {
    issuer.setFault({ kind: "reset-mid-body" });
    const res = await fetch(issuer.jwksUri);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("hang: never answers", async () => {
    issuer.setFault({ kind: "hang" });
    await expect(fetch(issuer.jwksUri, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(issuer.requests.jwks).toBe(1);
  });

  it("body: serves exactly the given body, type and status", async () => {
    issuer.setFault({ kind: "body", body: '{"keys":"nope"}' });
    const plain = await fetch(issuer.jwksUri);
    expect(plain.headers.get("content-type")).toBe("application/json");
    expect(await plain.text()).toBe('{"keys":"nope"}');
    issuer.setFault({ kind: "body", body: "teapot", contentType: "text/plain", status: 418 });
    const teapot = await fetch(issuer.jwksUri);
    expect([teapot.status, await teapot.text()]).toEqual([418, "teapot"]);
  });

  it("times: applies to the next N requests, then answers normally", async () => {
    issuer.setFault({ kind: "status", status: 500 }, { times: 2 });
    expect((await fetch(issuer.jwksUri)).status).toBe(500);
    expect((await fetch(issuer.discoveryUri)).status).toBe(500);
    expect((await fetch(issuer.jwksUri)).status).toBe(200);
    expect((await fetch(issuer.discoveryUri)).status).toBe(200);
    expect(issuer.requests).toEqual({ jwks: 2, discovery: 2, total: 4 });
    expect(() => issuer.setFault({ kind: "html" }, { times: 0 })).toThrow(RangeError);
  });

  it("endpoint: scopes the fault to one endpoint", async () => {
    issuer.setFault({ kind: "status", status: 404 }, { endpoint: "discovery" });
    expect((await fetch(issuer.jwksUri)).status).toBe(200);
    expect((await fetch(issuer.discoveryUri)).status).toBe(404);
    issuer.setFault({ kind: "not-jwks" }, { endpoint: "jwks" });
    expect(await (await fetch(issuer.jwksUri)).json()).toEqual({ hello: "world" });
    expect((await fetch(issuer.discoveryUri)).status).toBe(404);
  });

  it("null: clears the fault", async () => {
    issuer.setFault({ kind: "status", status: 500 });
    expect((await fetch(issuer.jwksUri)).status).toBe(500);
    issuer.setFault(null);
    expect((await fetch(issuer.jwksUri)).status).toBe(200);
  });

  it("a recovering JWKS lets a remote key set verify after a failure", async () => {
    issuer.setFault({ kind: "status", status: 500 }, { endpoint: "jwks", times: 1 });
    const token = await issuer.sign();
    const remote = createRemoteJWKSet(new URL(issuer.jwksUri));
    await expect(jwtVerify(token, remote)).rejects.toThrow();
    await expect(jwtVerify(token, remote)).resolves.toBeDefined();
    expect(issuer.requests.jwks).toBe(2);
  });
});
