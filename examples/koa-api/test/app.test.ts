import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import request from "supertest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../src/app.js";

let issuer: TestIssuer;
let server: ReturnType<ReturnType<typeof createApp>["callback"]>;

beforeAll(async () => {
  issuer = await createTestIssuer();
  server = createApp({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience as string,
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
  await request(server).get("/me").expect(401).expect("WWW-Authenticate", 'Bearer realm="api"');
  await request(server).get("/health").expect(200, { ok: true });
});
