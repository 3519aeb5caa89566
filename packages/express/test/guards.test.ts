import { ConfigurationError } from "@meishi/core";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import express, { type RequestHandler } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authErrorHandler,
  jwtAuth,
  requireAllRoles,
  requireAnyScope,
  requireClaim,
  requireRole,
  requireScope,
} from "../src/index.js";

let issuer: TestIssuer;
let auth: RequestHandler;

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = jwtAuth({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    realm: "shop",
  });
});

afterAll(() => issuer.close());

function appWith(...guards: RequestHandler[]): express.Express {
  const app = express();
  app.get("/", auth, ...guards, (_req, res) => res.json({ ok: true }));
  app.get("/unauthenticated", ...guards, (_req, res) => res.json({ ok: true }));
  app.use(authErrorHandler());
  return app;
}

async function status(app: express.Express, claims: Record<string, unknown>): Promise<number> {
  const res = await request(app)
    .get("/")
    .auth(await issuer.sign(claims), { type: "bearer" });
  return res.status;
}

describe("guards", () => {
  it("requireRole passes on any of the roles", async () => {
    const app = appWith(requireRole("admin", "standard user"));
    expect(await status(app, { role: "standard user" })).toBe(200);
    expect(await status(app, { role: "guest" })).toBe(403);
  });

  it("requireAllRoles needs every role", async () => {
    const app = appWith(requireAllRoles("admin", "auditor"));
    expect(await status(app, { role: ["admin", "auditor"] })).toBe(200);
    expect(await status(app, { role: ["admin"] })).toBe(403);
  });

  it("requireScope needs every scope and names them in the challenge", async () => {
    const app = appWith(requireScope("orders:read", "orders:write"));
    expect(await status(app, { scope: "orders:write orders:read" })).toBe(200);
    const res = await request(app)
      .get("/")
      .auth(await issuer.sign({ scope: "orders:read" }), { type: "bearer" });
    expect(res.status).toBe(403);
    expect(res.headers["www-authenticate"]).toBe(
      'Bearer realm="shop", error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:read orders:write"',
    );
  });

  it("requireAnyScope passes on any of the scopes", async () => {
    const app = appWith(requireAnyScope("orders:read", "orders:admin"));
    expect(await status(app, { scope: "orders:admin" })).toBe(200);
    expect(await status(app, { scope: "profile" })).toBe(403);
  });

  it("requireClaim compares strictly", async () => {
    const app = appWith(requireClaim("tenant.id", 7));
    expect(await status(app, { tenant: { id: 7 } })).toBe(200);
    expect(await status(app, { tenant: { id: "7" } })).toBe(403);
  });

  it("requireClaim calls a predicate with the claim value and the identity", async () => {
    const seen: unknown[] = [];
    const app = appWith(
      requireClaim("features", (value, identity) => {
        seen.push([value, identity.sub]);
        return Array.isArray(value) && value.includes("beta");
      }),
    );
    expect(await status(app, { sub: "fay", features: ["beta"] })).toBe(200);
    expect(await status(app, { sub: "gus" })).toBe(403);
    expect(seen).toEqual([
      [["beta"], "fay"],
      [undefined, "gus"],
    ]);
  });

  it("treats a throwing predicate as a refusal", async () => {
    const app = appWith(
      requireClaim("x", () => {
        throw new Error("bug");
      }),
    );
    expect(await status(app, {})).toBe(403);
  });

  it("answers 401 when no jwtAuth ran before the guard, even with a valid token, and says why in the reason", async () => {
    const reasons: unknown[] = [];
    const app = express();
    app.get("/unauthenticated", requireRole("admin"), (_req, res) => res.json({ ok: true }));
    app.use(((error, _req, _res, next) => {
      reasons.push((error as { reason?: unknown }).reason);
      next(error);
    }) as express.ErrorRequestHandler);
    app.use(authErrorHandler());
    const res = await request(app)
      .get("/unauthenticated")
      .auth(await issuer.sign({ role: "admin" }), { type: "bearer" });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="api"');
    expect(res.body).toEqual({
      error: "missing_token",
      error_description: "Authentication is required",
    });
    expect(reasons).toEqual(["guard_without_authentication"]);
  });

  it("keeps the reason missing_token when optional auth saw no token before the guard", async () => {
    const reasons: unknown[] = [];
    const app = express();
    const optional = jwtAuth({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      optional: true,
    });
    app.get("/", optional, requireRole("admin"), (_req, res) => res.json({ ok: true }));
    app.use(((error, _req, _res, next) => {
      reasons.push((error as { reason?: unknown }).reason);
      next(error);
    }) as express.ErrorRequestHandler);
    app.use(authErrorHandler());
    expect((await request(app).get("/")).status).toBe(401);
    expect(reasons).toEqual(["missing_token"]);
  });

  it("uses the realm of the verifier that authenticated the request", async () => {
    const res = await request(appWith(requireRole("admin")))
      .get("/")
      .auth(await issuer.sign(), { type: "bearer" });
    expect(res.status).toBe(403);
    expect(res.headers["www-authenticate"]).toMatch(
      /^Bearer realm="shop", error="insufficient_scope"/,
    );
  });

  it("refuses bad guard arguments with a ConfigurationError naming the call", () => {
    expect(() => requireRole()).toThrowError(
      new ConfigurationError("requireRole() from @meishi/express: name at least one role"),
    );
    expect(() => requireRole(["a", "b"] as unknown as string)).toThrowError(
      new ConfigurationError(
        'requireRole() from @meishi/express: pass roles as separate arguments: requireRole("a", "b"), not an array',
      ),
    );
    expect(() => requireScope("")).toThrowError(
      new ConfigurationError(
        'requireScope() from @meishi/express: every scope must be a non-empty string, got ""',
      ),
    );
    expect(() => requireAnyScope()).toThrow(
      expect.objectContaining({ code: "ERR_MEISHI_CONFIGURATION" }),
    );
    expect(() => requireAllRoles(1 as unknown as string)).toThrow(ConfigurationError);
    expect(() => requireClaim("tenant", undefined as unknown as string)).toThrow(
      ConfigurationError,
    );
  });
});
