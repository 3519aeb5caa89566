import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../src/app.js";

let issuer: TestIssuer;
let app: FastifyInstance;

beforeAll(async () => {
  issuer = await createTestIssuer();
  app = await createApp({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience as string,
  });
});

afterAll(async () => {
  await app.close();
  await issuer.close();
});

it("serves /orders to a standard user", async () => {
  const token = await issuer.sign({ sub: "alice", role: "standard user" });
  const res = await app.inject({ url: "/orders", headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode).toBe(200);
  expect(res.json().owner).toBe("alice");
});

it("refuses /admin to a standard user with 403", async () => {
  const token = await issuer.sign({ role: "standard user" });
  const res = await app.inject({ url: "/admin", headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode).toBe(403);
  expect(res.json()).toEqual({
    error: "insufficient_scope",
    error_description: "The access token lacks a required role",
  });
});

it("refuses /me without a token with 401, and keeps /health public", async () => {
  const me = await app.inject({ url: "/me" });
  expect(me.statusCode).toBe(401);
  expect(me.headers["www-authenticate"]).toBe('Bearer realm="api"');
  expect((await app.inject({ url: "/health" })).json()).toEqual({ ok: true });
});
