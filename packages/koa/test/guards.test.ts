import { createServer, type Server } from "node:http";
import Router from "@koa/router";
import { ConfigurationError } from "@meishi/core";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import Koa, { type Middleware } from "koa";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthState,
  authErrorHandler,
  jwtAuth,
  requireAllRoles,
  requireAnyScope,
  requireClaim,
  requireRole,
  requireScope,
} from "../src/index.js";

let issuer: TestIssuer;
let server: Server;

beforeAll(async () => {
  issuer = await createTestIssuer();
  const app = new Koa<AuthState>();
  app.use(authErrorHandler());
  const router = new Router<AuthState>();
  const ok: Middleware<AuthState> = (ctx) => {
    ctx.body = { sub: ctx.state.auth?.sub };
  };
  router.use(
    jwtAuth({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      realm: "shop",
    }),
  );
  router.get("/role", requireRole("admin", "standard user"), ok);
  router.get("/all-roles", requireAllRoles("admin", "auditor"), ok);
  router.get("/scope", requireScope("orders:read"), ok);
  router.get("/any-scope", requireAnyScope("orders:read", "orders:admin"), ok);
  router.get("/claim", requireClaim("tenant", "acme"), ok);
  router.get(
    "/predicate",
    requireClaim("age", (value) => typeof value === "number" && value >= 18),
    ok,
  );
  // Guards stack: both must pass.
  router.get("/stacked", requireRole("admin"), requireScope("orders:read"), ok);
  app.use(router.routes());
  server = createServer(app.callback());
});

afterAll(async () => {
  server.close();
  await issuer.close();
});

async function status(path: string, claims: Record<string, unknown>): Promise<number> {
  const res = await request(server)
    .get(path)
    .auth(await issuer.sign(claims), { type: "bearer" });
  return res.status;
}

describe("router guards", () => {
  it.each([
    ["/role", { role: "standard user" }, 200],
    ["/role", { role: "guest" }, 403],
    ["/all-roles", { role: ["admin", "auditor"] }, 200],
    ["/all-roles", { role: "admin" }, 403],
    ["/scope", { scope: "orders:read" }, 200],
    ["/scope", { scope: "orders:write" }, 403],
    ["/any-scope", { scp: ["orders:admin"] }, 200],
    ["/any-scope", {}, 403],
    ["/claim", { tenant: "acme" }, 200],
    ["/claim", { tenant: "ACME" }, 403],
    ["/predicate", { age: 30 }, 200],
    ["/predicate", { age: "30" }, 403],
    ["/stacked", { role: "admin", scope: "orders:read" }, 200],
    ["/stacked", { role: "admin" }, 403],
  ] as const)("%s with %j answers %i", async (path, claims, expected) => {
    expect(await status(path, claims)).toBe(expected);
  });

  it("renders a 403 with the verifier's realm", async () => {
    const res = await request(server)
      .get("/role")
      .auth(await issuer.sign(), { type: "bearer" });
    expect(res.status).toBe(403);
    expect(res.headers["www-authenticate"]).toMatch(
      /^Bearer realm="shop", error="insufficient_scope"/,
    );
    expect(res.body).toEqual({
      error: "insufficient_scope",
      error_description: "The access token lacks a required role",
    });
  });

  it("answers 401 when used without jwtAuth, even with a valid token, with its own reason", async () => {
    const app = new Koa();
    const reasons: unknown[] = [];
    app.use(authErrorHandler());
    app.use(async (_ctx, next) => {
      try {
        await next();
      } catch (error) {
        reasons.push((error as { reason?: unknown }).reason);
        throw error;
      }
    });
    app.use(requireRole("admin"));
    const res = await request(app.callback())
      .get("/")
      .set("authorization", `Bearer ${await issuer.sign({ role: "admin" })}`);
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="api"');
    expect(res.body).toEqual({
      error: "missing_token",
      error_description: "Authentication is required",
    });
    expect(reasons).toEqual(["guard_without_authentication"]);
  });

  it("refuses bad guard arguments with a ConfigurationError naming the call", () => {
    expect(() => requireRole()).toThrowError(
      new ConfigurationError("requireRole() from @meishi/koa: name at least one role"),
    );
    expect(() => requireRole(["a", "b"] as unknown as string)).toThrowError(
      new ConfigurationError(
        'requireRole() from @meishi/koa: pass roles as separate arguments: requireRole("a", "b"), not an array',
      ),
    );
    expect(() => requireScope(7 as unknown as string)).toThrowError(
      new ConfigurationError(
        "requireScope() from @meishi/koa: every scope must be a non-empty string, got number",
      ),
    );
  });
});
