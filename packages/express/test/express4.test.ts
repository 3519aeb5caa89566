// A real Express 4 app (installed as the `express4` alias), not a simulation: Express 4 ignores
// the promise a middleware returns, so every failure must reach next() by hand.
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import express4 from "express4";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authErrorHandler, jwtAuth, requireRole } from "../src/index.js";

let issuer: TestIssuer;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  issuer = await createTestIssuer();
  process.on("unhandledRejection", onUnhandled);
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await issuer.close();
});

function app(withErrorHandler: boolean) {
  const app = express4();
  app.use(jwtAuth({ jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience }));
  app.get("/orders", requireRole("standard user"), (req, res) => {
    res.json({ sub: req.auth?.sub });
  });
  if (withErrorHandler) app.use(authErrorHandler());
  return app;
}

describe("on Express 4", () => {
  it("authenticates, guards and renders RFC 6750 errors", async () => {
    const ok = await request(app(true))
      .get("/orders")
      .set("Authorization", `Bearer ${await issuer.sign({ sub: "e4", role: "standard user" })}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ sub: "e4" });

    const forbidden = await request(app(true))
      .get("/orders")
      .set("Authorization", `Bearer ${await issuer.sign({ role: "admin" })}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe("insufficient_scope");

    const invalid = await request(app(true)).get("/orders").set("Authorization", "Bearer a.b.c");
    expect(invalid.status).toBe(401);
    expect(invalid.headers["www-authenticate"]).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token is malformed"',
    );
  });

  it("answers correctly through Express 4's default handler, without a stack trace", async () => {
    const res = await request(app(false)).get("/orders");
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="api"');
    // Outside production Express 4 prints `err.stack` into an HTML page (spaces as &nbsp;).
    expect(res.text).toContain("MissingTokenError");
    expect(res.text).not.toMatch(/(\s|&nbsp;)at(\s|&nbsp;)|\.js:\d|node_modules/);
    expect(unhandled).toEqual([]);
  });
});
