import { createDpopClient, createTestIssuer, type TestIssuer } from "@meishi/testing";
import request from "supertest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../src/app.js";

const PUBLIC_URL = "https://api.example.test";
const CHALLENGE =
  'Bearer realm="api", resource_metadata="https://api.example.test/.well-known/oauth-protected-resource", ' +
  'DPoP realm="api", resource_metadata="https://api.example.test/.well-known/oauth-protected-resource", ' +
  'algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519"';

let issuer: TestIssuer;
let server: ReturnType<ReturnType<typeof createApp>["callback"]>;

beforeAll(async () => {
  issuer = await createTestIssuer();
  server = createApp({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience as string,
    publicUrl: PUBLIC_URL,
  }).callback();
});

afterAll(() => issuer.close());

it("serves /orders to a standard user", async () => {
  const token = await issuer.sign({ sub: "alice", role: "standard user" });
  const res = await request(server).get("/orders").set("Authorization", `Bearer ${token}`);
  expect(res.status).toBe(200);
  expect(res.body.owner).toBe("alice");
});

it("refuses /admin to a standard user with 403", async () => {
  const token = await issuer.sign({ role: "standard user" });
  const res = await request(server).get("/admin").set("Authorization", `Bearer ${token}`);
  expect(res.status).toBe(403);
  expect(res.body).toEqual({
    error: "insufficient_scope",
    error_description: "The access token lacks a required role",
  });
});

it("refuses /me without a token with 401, and keeps /health public", async () => {
  await request(server).get("/me").expect(401).expect("WWW-Authenticate", CHALLENGE);
  await request(server).get("/health").expect(200, { ok: true });
});

async function send(path: string, headers: Record<string, string> = {}) {
  const res = await request(server).get(path).set(headers);
  return {
    status: res.status,
    body: res.body as unknown,
    challenge: res.headers["www-authenticate"],
  };
}

it("serves its protected-resource metadata (RFC 9728) without a token", async () => {
  const reply = await send("/.well-known/oauth-protected-resource");
  expect(reply.status).toBe(200);
  expect(reply.body).toMatchObject({
    resource: PUBLIC_URL,
    authorization_servers: [issuer.issuer],
    dpop_bound_access_tokens_required: false,
  });
});

it("accepts a DPoP-bound card only from its holder, and each proof once", async () => {
  const holder = await createDpopClient();
  const thief = await createDpopClient();
  const token = await issuer.sign({
    sub: "omochi",
    role: "standard user",
    cnf: { jkt: holder.jkt },
  });
  const proof = await holder.proof("GET", `${PUBLIC_URL}/orders`, { accessToken: token });
  const dpop = (value: string) => ({ authorization: `DPoP ${token}`, dpop: value });
  expect((await send("/orders", dpop(proof))).status).toBe(200);
  expect((await send("/orders", dpop(proof))).body).toMatchObject({
    error: "invalid_dpop_proof",
    error_description: "The DPoP proof was already used",
  });
  const stolen = await thief.proof("GET", `${PUBLIC_URL}/orders`, { accessToken: token });
  expect((await send("/orders", dpop(stolen))).status).toBe(401);
  expect((await send("/orders", { authorization: `Bearer ${token}` })).status).toBe(401);
});
