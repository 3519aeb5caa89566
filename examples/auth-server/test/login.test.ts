import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { admin, login, omochi, postJson, sharedServer, start } from "./helpers.js";

describe("POST /login", () => {
  const shared = sharedServer();

  it("returns a bearer access token and a refresh token for omochi", async () => {
    const { url } = shared();
    const res = await postJson(`${url}/login`, omochi);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: "Bearer",
      expires_in: 300,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
  });

  it("signs an RS256 at+jwt whose claims verify against the live JWKS", async () => {
    const { server, url } = shared();
    const tokens = await login(url, omochi.username, omochi.password);
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: url,
      audience: "https://api.meishi.example",
      typ: "at+jwt",
      algorithms: ["RS256"],
    });
    expect(server.issuer).toBe(url);
    expect(protectedHeader).toEqual({ alg: "RS256", typ: "at+jwt", kid: expect.any(String) });
    expect(payload).toEqual({
      iss: url,
      aud: "https://api.meishi.example",
      sub: "00123",
      name: "omochi",
      role: "standard user",
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it("uses the configured issuer, audience and lifetime", async () => {
    const { url } = await start({
      issuer: "https://auth.meishi.example/",
      audience: "orders-api",
      accessTokenTtlSec: 60,
    });
    const tokens = await login(url, admin.username, admin.password);
    expect(tokens.expires_in).toBe(60);
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: "https://auth.meishi.example",
      audience: "orders-api",
    });
    expect(payload).toMatchObject({ sub: "00001", role: "admin", name: "admin" });
    expect(payload.exp! - payload.iat!).toBe(60);
  });

  it("gives each token its own jti", async () => {
    const { url } = shared();
    const a = await login(url, omochi.username, omochi.password);
    const b = await login(url, omochi.username, omochi.password);
    expect(a.refresh_token).not.toBe(b.refresh_token);
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    const [pa, pb] = await Promise.all([
      jwtVerify(a.access_token, jwks),
      jwtVerify(b.access_token, jwks),
    ]);
    expect(pa.payload.jti).not.toBe(pb.payload.jti);
  });

  it("answers a wrong password and an unknown user with the same 401 body", async () => {
    const { url } = shared();
    const wrong = await postJson(`${url}/login`, { username: "omochi", password: "kinako" });
    const unknown = await postJson(`${url}/login`, {
      username: "daifuku",
      password: "mochi-mochi",
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const expected = { error: "invalid_grant", error_description: "invalid username or password" };
    expect(await wrong.json()).toEqual(expected);
    expect(await unknown.json()).toEqual(expected);
  });

  it("accepts kinako, and the configured users only", async () => {
    const { url } = await start({
      users: [
        {
          sub: "u1",
          username: "daifuku",
          name: "Daifuku",
          role: "standard user",
          password: "anko",
        },
      ],
    });
    expect((await postJson(`${url}/login`, omochi)).status).toBe(401);
    const tokens = await login(url, "daifuku", "anko");
    const [, payload] = tokens.access_token.split(".");
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({ sub: "u1" });
    const other = shared();
    await expect(login(other.url, "kinako", "kinako-mochi")).resolves.toMatchObject({
      token_type: "Bearer",
    });
  });

  it.each([
    ["no password", { username: "omochi" }],
    ["a number as password", { username: "omochi", password: 1234 }],
    ["an empty username", { username: "", password: "mochi-mochi" }],
    ["an array body", [omochi.username, omochi.password]],
  ])("refuses %s with 400 invalid_request", async (_name, body) => {
    const { url } = shared();
    const res = await postJson(`${url}/login`, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });

  it("answers bad JSON with 400 and no stack trace", async () => {
    const { url } = shared();
    const res = await postJson(`${url}/login`, '{"username": "omochi",');
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: "invalid_request",
      error_description: "request body is not valid JSON",
    });
    expect(text).not.toMatch(/at .*\.js|SyntaxError/);
  });

  it("refuses a body over the size limit with 413", async () => {
    const { url } = shared();
    const res = await postJson(`${url}/login`, {
      username: "omochi",
      password: "x".repeat(20_000),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: "invalid_request",
      error_description: "request body is too large",
    });
  });

  it("refuses a non-JSON body", async () => {
    const { url } = shared();
    const res = await fetch(`${url}/login`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "username=omochi&password=mochi-mochi",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });

  it("answers unknown paths with a JSON 404", async () => {
    const { url } = shared();
    const res = await fetch(`${url}/session`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found", error_description: "no such endpoint" });
  });

  it("keeps the token header readable to anyone: the card is signed, not sealed", async () => {
    const { url } = shared();
    const tokens = await login(url, omochi.username, omochi.password);
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe("RS256");
  });
});
