// A real Koa 2 app (installed as the `koa2` alias): the peer range promises Koa 2 and 3.
import { createServer } from "node:http";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import Koa2 from "koa2";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthState, authErrorHandler, jwtAuth, requireRole } from "../src/index.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});

afterAll(() => issuer.close());

function app(withErrorHandler: boolean) {
  const app = new Koa2<AuthState>();
  if (withErrorHandler) app.use(authErrorHandler());
  app.use(jwtAuth({ jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience }));
  app.use(requireRole("standard user"));
  app.use((ctx) => {
    ctx.body = { sub: ctx.state.auth?.sub };
  });
  app.silent = true;
  return createServer(app.callback());
}

describe("on Koa 2", () => {
  it("authenticates, guards and renders RFC 6750 errors", async () => {
    const ok = await request(app(true))
      .get("/")
      .set("Authorization", `Bearer ${await issuer.sign({ sub: "k2", role: "standard user" })}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ sub: "k2" });

    const forbidden = await request(app(true))
      .get("/")
      .set("Authorization", `Bearer ${await issuer.sign({ role: "admin" })}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe("insufficient_scope");
  });

  it("answers correctly through Koa 2's default error handling", async () => {
    const res = await request(app(false)).get("/").set("Authorization", "Bearer a.b.c");
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token is malformed"',
    );
  });
});
