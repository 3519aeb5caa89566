import { createServer, type Server } from "node:http";
import Router from "@koa/router";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import Koa, { type Middleware } from "koa";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthState, authErrorHandler, jwtAuth, requireRole } from "../src/index.js";

// @koa/router 15 compiles a prefixed `router.use()` layer case-sensitively while its routes
// match any case (see src/router-check.ts): these pin which forms are safe and that the unsafe
// ones fail closed and loudly.

let issuer: TestIssuer;
const servers: Server[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(async () => {
  for (const server of servers) server.close();
  await issuer.close();
});

const auth = () =>
  jwtAuth({ jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience });
const handler: Middleware<AuthState> = (ctx) => {
  ctx.body = { reached: true, sub: ctx.state.auth?.sub ?? null };
};

interface Served {
  server: Server;
  errors: Error[];
}

function serve(build: (app: Koa<AuthState>) => void): Served {
  const app = new Koa<AuthState>();
  app.silent = true;
  const errors: Error[] = [];
  app.on("error", (error: Error) => errors.push(error));
  app.use(authErrorHandler());
  build(app);
  const server = createServer(app.callback());
  servers.push(server);
  return { server, errors };
}

// Case and encoding variants of /admin/users; none may reach the handler without a token.
const VARIANTS = [
  "/admin/users",
  "/ADMIN/users",
  "/Admin/Users",
  "/admin/users/",
  "/ADMIN/USERS/",
  "/%41dmin/users",
  "/admin/%75sers",
  "//admin/users",
];

async function expectNeverReachedWithoutToken(served: Served): Promise<void> {
  for (const path of VARIANTS) {
    const res = await request(served.server).get(path);
    expect({ path, reached: res.body?.reached === true }).toEqual({ path, reached: false });
    expect({ path, status: res.status }).not.toEqual({ path, status: 200 });
  }
}

describe("safe forms with @koa/router 15", () => {
  it("route-level middleware on a prefixed router", async () => {
    const served = serve((app) => {
      const router = new Router<AuthState>({ prefix: "/admin" });
      router.get("/users", auth(), requireRole("admin"), handler);
      app.use(router.routes());
    });
    await expectNeverReachedWithoutToken(served);
    const res = await request(served.server)
      .get("/ADMIN/users")
      .set("authorization", `Bearer ${await issuer.sign({ sub: "a", role: "admin" })}`);
    expect(res.body).toEqual({ reached: true, sub: "a" });
  });

  it("app-level jwtAuth before the router", async () => {
    const served = serve((app) => {
      const router = new Router<AuthState>({ prefix: "/admin" });
      router.get("/users", requireRole("admin"), handler);
      app.use(auth());
      app.use(router.routes());
    });
    await expectNeverReachedWithoutToken(served);
  });

  it("router.use() on a router with sensitive: true", async () => {
    const served = serve((app) => {
      const router = new Router<AuthState>({ prefix: "/admin", sensitive: true });
      router.use(auth(), requireRole("admin"));
      router.get("/users", handler);
      app.use(router.routes());
    });
    await expectNeverReachedWithoutToken(served);
    expect((await request(served.server).get("/admin/users")).status).toBe(401);
    expect((await request(served.server).get("/ADMIN/users")).status).toBe(404);
  });

  it("router.use() with an explicit path on an unprefixed router", async () => {
    const served = serve((app) => {
      const router = new Router<AuthState>();
      router.use("/admin", auth(), requireRole("admin"));
      router.get("/admin/users", handler);
      app.use(router.routes());
    });
    await expectNeverReachedWithoutToken(served);
    expect((await request(served.server).get("/ADMIN/users")).status).toBe(401);
  });

  it("router.use() without a prefix", async () => {
    const served = serve((app) => {
      const router = new Router<AuthState>();
      router.use(auth(), requireRole("admin"));
      router.get("/admin/users", handler);
      app.use(router.routes());
    });
    await expectNeverReachedWithoutToken(served);
  });
});

describe("unsafe forms fail closed and loudly", () => {
  const message =
    /is mounted with router\.use\(\) under the prefix "\/admin".*\{ sensitive: true \}/;

  async function expectRefused(served: Served, firstPath: string): Promise<void> {
    const first = await request(served.server).get(firstPath);
    expect(first.status).toBe(500);
    expect(first.text).not.toMatch(/reached|sensitive/);
    expect(served.errors.at(-1)?.name).toBe("ConfigurationError");
    expect(served.errors.at(-1)?.message).toMatch(message);
    // From then on every casing reaches the check and is refused, token or not.
    const token = `Bearer ${await issuer.sign({ role: "admin" })}`;
    for (const path of VARIANTS) {
      const res = await request(served.server).get(path).set("authorization", token);
      expect({ path, reached: res.body?.reached === true }).toEqual({ path, reached: false });
    }
    expect((await request(served.server).get("/ADMIN/users")).status).toBe(500);
  }

  it("router.use(jwtAuth(), requireRole()) on a prefixed router", async () => {
    const served = serve((app) => {
      const router = new Router<AuthState>({ prefix: "/admin" });
      router.use(auth(), requireRole("admin"));
      router.get("/users", handler);
      app.use(router.routes());
    });
    await expectRefused(served, "/admin/users");
  });

  it("a guard alone in a prefixed router.use(), with jwtAuth on the app", async () => {
    const served = serve((app) => {
      const router = new Router<AuthState>({ prefix: "/admin" });
      router.use(requireRole("admin"));
      router.get("/users", handler);
      app.use(auth());
      app.use(router.routes());
    });
    const token = `Bearer ${await issuer.sign({ role: "user" })}`;
    const res = await request(served.server).get("/admin/users").set("authorization", token);
    expect(res.status).toBe(500);
    expect(served.errors.at(-1)?.message).toMatch(/a guard \(requireRole, …\) from @meishi\/koa/);
    const upper = await request(served.server).get("/ADMIN/users").set("authorization", token);
    expect(upper.body?.reached).not.toBe(true);
  });

  it("a child router's router.use() nested under parent.use('/admin', child.routes())", async () => {
    const served = serve((app) => {
      const child = new Router<AuthState>();
      child.use(auth(), requireRole("admin"));
      child.get("/users", handler);
      const parent = new Router<AuthState>();
      parent.use("/admin", child.routes());
      app.use(parent.routes());
    });
    await expectRefused(served, "/admin/users");
  });

  it("a nested router under a prefixed parent", async () => {
    const served = serve((app) => {
      const child = new Router<AuthState>({ prefix: "/admin" });
      child.use(auth());
      child.get("/users", handler);
      const parent = new Router<AuthState>({ prefix: "/v1" });
      parent.use(child.routes());
      app.use(parent.routes());
    });
    const res = await request(served.server).get("/v1/admin/users");
    expect(res.status).toBe(500);
    expect(served.errors.at(-1)?.message).toMatch(/under the prefix "\/v1\/admin"/);
    expect((await request(served.server).get("/V1/ADMIN/users")).body?.reached).not.toBe(true);
  });

  it("is found by any meishi middleware on the same router, before the case-blind layer runs", async () => {
    const served = serve((app) => {
      const child = new Router<AuthState>();
      child.use(auth());
      child.get("/users", handler);
      const parent = new Router<AuthState>();
      parent.get("/me", auth(), handler);
      parent.use("/admin", child.routes());
      app.use(parent.routes());
    });
    const token = `Bearer ${await issuer.sign({ sub: "me" })}`;
    // The first request never touches /admin: the route-level jwtAuth() on /me inspects the router.
    expect((await request(served.server).get("/me").set("authorization", token)).status).toBe(500);
    expect(served.errors.at(-1)?.message).toMatch(
      /^jwtAuth\(\) from @meishi\/koa is mounted with router\.use\(\) under the prefix "\/admin"/,
    );
    const upper = await request(served.server).get("/ADMIN/users");
    expect(upper.body?.reached).not.toBe(true);
    expect(upper.status).toBe(500);
  });
});
