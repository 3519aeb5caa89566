import { createServer, type Server } from "node:http";
import Router from "@koa/router";
import { createVerifier, isAuthError } from "@meishi/core";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import Koa, { type Context } from "koa";
import request from "supertest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AuthState, authErrorHandler, type JwtAuthOptions, jwtAuth } from "../src/index.js";

let issuer: TestIssuer;
const servers: Server[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
});

afterEach(async () => {
  issuer.resetRequestCounts();
  issuer.setFault(null);
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

afterAll(() => issuer.close());

const options = () => ({
  jwksUri: issuer.jwksUri,
  issuer: issuer.issuer,
  audience: issuer.audience,
});

function serve(app: Koa<AuthState>): Server {
  const server = createServer(app.callback());
  servers.push(server);
  return server;
}

function appWith(auth: Koa.Middleware<AuthState>, errorHandler = true): Server {
  const app = new Koa<AuthState>();
  app.silent = true;
  if (errorHandler) app.use(authErrorHandler());
  app.use(auth);
  app.use((ctx) => {
    ctx.body = { sub: ctx.state.auth?.sub ?? null };
  });
  return serve(app);
}

describe("jwtAuth", () => {
  it("sets ctx.state.auth and builds its verifier once", async () => {
    const server = appWith(jwtAuth(options()));
    for (const sub of ["a", "b"]) {
      await request(server)
        .get("/")
        .auth(await issuer.sign({ sub }), { type: "bearer" })
        .expect(200, { sub });
    }
    expect(issuer.requests.jwks).toBe(1);
  });

  it("shares a prebuilt verifier", async () => {
    const verifier = createVerifier(options());
    const first = appWith(jwtAuth({ verifier }));
    const second = appWith(jwtAuth({ verifier, optional: true }));
    await request(first)
      .get("/")
      .auth(await issuer.sign(), { type: "bearer" })
      .expect(200);
    await request(second)
      .get("/")
      .auth(await issuer.sign(), { type: "bearer" })
      .expect(200);
    expect(issuer.requests.jwks).toBe(1);
  });

  it("reads the token with a custom getToken(ctx)", async () => {
    const getToken = (ctx: Context) => ctx.cookies.get("session");
    const server = appWith(jwtAuth({ ...options(), getToken } satisfies JwtAuthOptions));
    const token = await issuer.sign({ sub: "cookie" });
    await request(server).get("/").set("Cookie", `session=${token}`).expect(200, { sub: "cookie" });
  });

  it("lets a request without a token through when optional, but not a bad token", async () => {
    const server = appWith(jwtAuth({ ...options(), optional: true }));
    await request(server).get("/").expect(200, { sub: null });
    await request(server).get("/").auth("bad", { type: "bearer" }).expect(401);
  });

  it("throws the core AuthError to upstream middleware", async () => {
    const seen: unknown[] = [];
    const app = new Koa<AuthState>();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        seen.push(error);
        ctx.status = 599;
      }
    });
    app.use(jwtAuth(options()));
    await request(serve(app)).get("/").expect(599);
    expect(isAuthError(seen[0])).toBe(true);
    expect(seen[0]).toMatchObject({ code: "missing_token", status: 401, expose: true });
  });

  it("answers through ctx.onerror when no error handler is installed", async () => {
    issuer.setFault({ kind: "status", status: 500 });
    const res = await request(appWith(jwtAuth(options()), false))
      .get("/")
      .auth(await issuer.sign(), { type: "bearer" });
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toMatch(/^\d+$/);
  });

  it.each([
    ["nothing", undefined],
    ["number", 42],
  ])("refuses %s with a ConfigurationError naming jwtAuth()", (got, value) => {
    expect(() => jwtAuth(value as never)).toThrow(
      expect.objectContaining({
        name: "ConfigurationError",
        message: `jwtAuth() from @meishi/koa: pass a JWKS URL or options such as { jwksUri, issuer, audience }, got ${got}`,
      }),
    );
  });

  it("refuses an unknown option naming jwtAuth(), and accepts the adapter's own", () => {
    const base = { jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience };
    expect(() => jwtAuth({ ...base, getTokn: () => undefined } as never)).toThrow(
      expect.objectContaining({
        name: "ConfigurationError",
        message: "jwtAuth() from @meishi/koa: getTokn is not an option; did you mean getToken?",
      }),
    );
    expect(() => jwtAuth({ ...base, optional: true, getToken: () => undefined })).not.toThrow();
  });

  it("throws a ConfigurationError at start-up", () => {
    expect(() =>
      jwtAuth({ jwksUri: "http://example.com/jwks", issuer: null, audience: null }),
    ).toThrow(expect.objectContaining({ code: "ERR_MEISHI_CONFIGURATION" }));
  });
});

describe("authErrorHandler", () => {
  it("rethrows errors that are not meishi's", async () => {
    const app = new Koa();
    app.silent = true;
    app.use(authErrorHandler());
    app.use(() => {
      throw new Error("boom");
    });
    const res = await request(serve(app)).get("/");
    expect(res.status).toBe(500);
    expect(res.headers["www-authenticate"]).toBeUndefined();
  });
});

describe("with @koa/router", () => {
  it("runs on a router with the route's own middleware", async () => {
    const app = new Koa();
    app.use(authErrorHandler());
    const router = new Router();
    router.get("/open", (ctx) => {
      ctx.body = { open: true, auth: ctx.state.auth ?? null };
    });
    router.get("/closed", jwtAuth(options()), (ctx) => {
      ctx.body = { sub: ctx.state.auth?.sub };
    });
    app.use(router.routes());
    const server = serve(app);
    await request(server).get("/open").expect(200, { open: true, auth: null });
    await request(server).get("/closed").expect(401);
    await request(server)
      .get("/closed")
      .auth(await issuer.sign({ sub: "routed" }), { type: "bearer" })
      .expect(200, { sub: "routed" });
  });
});
