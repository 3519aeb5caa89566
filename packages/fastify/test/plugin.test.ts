import { createVerifier, isAuthError } from "@meishi/core";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import meishi, {
  authErrorHandler,
  type MeishiPluginOptions,
  meishi as namedMeishi,
} from "../src/index.js";

let issuer: TestIssuer;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
});

afterEach(async () => {
  issuer.resetRequestCounts();
  issuer.setFault(null);
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

afterAll(() => issuer.close());

const options = () => ({
  jwksUri: issuer.jwksUri,
  issuer: issuer.issuer,
  audience: issuer.audience,
});

async function build(
  pluginOptions: MeishiPluginOptions,
  routes: (app: FastifyInstance) => void,
): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  await app.register(meishi, pluginOptions);
  app.setErrorHandler(authErrorHandler);
  routes(app);
  await app.ready();
  return app;
}

const bearer = async (claims: Record<string, unknown> = {}) => ({
  authorization: `Bearer ${await issuer.sign(claims)}`,
});

describe("decorators", () => {
  it("decorates the instance and gives every request an auth of null", async () => {
    const app = await build(options(), (instance) => {
      instance.get("/open", async (request) => ({ auth: request.auth, has: "auth" in request }));
    });
    expect(app.hasRequestDecorator("auth")).toBe(true);
    for (const name of [
      "authenticate",
      "requireRole",
      "requireAllRoles",
      "requireScope",
      "requireAnyScope",
      "requireClaim",
    ]) {
      expect(app.hasDecorator(name)).toBe(true);
    }
    const res = await app.inject({ url: "/open" });
    expect(res.json()).toEqual({ auth: null, has: true });
    expect(issuer.requests.total).toBe(0);
  });

  it("exports the plugin as default and by name, wrapped by fastify-plugin", () => {
    expect(namedMeishi).toBe(meishi);
    const meta = meishi as unknown as Record<symbol, unknown>;
    expect(meta[Symbol.for("fastify.display-name")]).toBe("@meishi/fastify");
    expect(meta[Symbol.for("skip-override")]).toBe(true);
  });

  it("builds its verifier once per registration", async () => {
    const app = await build(options(), (instance) => {
      instance.get("/me", { onRequest: instance.authenticate }, async (request) => ({
        sub: request.auth?.sub,
      }));
    });
    for (const sub of ["a", "b", "c"]) {
      const res = await app.inject({ url: "/me", headers: await bearer({ sub }) });
      expect(res.json()).toEqual({ sub });
    }
    expect(issuer.requests.jwks).toBe(1);
  });

  it("uses a prebuilt verifier", async () => {
    const verifier = createVerifier(options());
    const app = await build({ verifier }, (instance) => {
      instance.get("/me", { onRequest: instance.authenticate }, async (request) => ({
        sub: request.auth?.sub,
      }));
    });
    await verifier.verify(await issuer.sign());
    const res = await app.inject({ url: "/me", headers: await bearer({ sub: "shared" }) });
    expect(res.json()).toEqual({ sub: "shared" });
    expect(issuer.requests.jwks).toBe(1);
  });

  it("fails registration for a bad option", async () => {
    const app = Fastify();
    apps.push(app);
    app.register(meishi, {
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
    } as unknown as MeishiPluginOptions);
    await expect(app.ready()).rejects.toMatchObject({ code: "ERR_MEISHI_CONFIGURATION" });
  });
});

describe("hooks", () => {
  it("a guard authenticates on its own, and after authenticate", async () => {
    const app = await build(options(), (instance) => {
      instance.get("/alone", { onRequest: instance.requireRole("admin") }, async (request) => ({
        sub: request.auth?.sub,
      }));
      instance.get(
        "/both",
        { onRequest: [instance.authenticate, instance.requireAllRoles("admin", "auditor")] },
        async (request) => ({ sub: request.auth?.sub }),
      );
    });
    expect((await app.inject({ url: "/alone" })).statusCode).toBe(401);
    expect(
      (await app.inject({ url: "/alone", headers: await bearer({ role: "guest" }) })).statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ url: "/alone", headers: await bearer({ role: "admin" }) })).statusCode,
    ).toBe(200);
    expect(
      (await app.inject({ url: "/both", headers: await bearer({ role: "admin" }) })).statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ url: "/both", headers: await bearer({ role: ["admin", "auditor"] }) }))
        .statusCode,
    ).toBe(200);
  });

  it("scope and claim guards", async () => {
    const app = await build(options(), (instance) => {
      instance.get("/any", { onRequest: instance.requireAnyScope("a", "b") }, async () => "ok");
      instance.get(
        "/claim",
        { onRequest: instance.requireClaim("org.id", "acme") },
        async () => "ok",
      );
      instance.get(
        "/predicate",
        {
          onRequest: instance.requireClaim(
            "age",
            (value) => typeof value === "number" && value >= 18,
          ),
        },
        async () => "ok",
      );
    });
    const code = async (url: string, claims: Record<string, unknown>) =>
      (await app.inject({ url, headers: await bearer(claims) })).statusCode;
    expect(await code("/any", { scope: "b" })).toBe(200);
    expect(await code("/any", { scope: "c" })).toBe(403);
    expect(await code("/claim", { org: { id: "acme" } })).toBe(200);
    expect(await code("/claim", { org: { id: "other" } })).toBe(403);
    expect(await code("/predicate", { age: 18 })).toBe(200);
    expect(await code("/predicate", { age: 17 })).toBe(403);
  });

  it("authenticate is a hook and, called without done, a promise a handler can await", async () => {
    const app = await build(options(), (instance) => {
      instance.get(
        "/hook",
        { onRequest: instance.authenticate },
        async (request) => request.auth?.sub,
      );
      instance.get("/awaited", async (request, reply) => {
        const pending = instance.authenticate(request, reply);
        expect(pending).toBeInstanceOf(Promise);
        await pending;
        return request.auth?.sub;
      });
    });
    const headers = await bearer({ sub: "u-1" });
    for (const url of ["/hook", "/awaited"]) {
      // Twice: a first sight (promise inside), then a verified-token cache hit (synchronous).
      for (let i = 0; i < 2; i++) {
        const res = await app.inject({ url, headers });
        expect(res.statusCode, url).toBe(200);
        expect(res.body).toBe("u-1");
      }
      const refused = await app.inject({ url, headers: { authorization: "Bearer x.y.z" } });
      expect(refused.statusCode, url).toBe(401);
      expect(refused.headers["www-authenticate"]).toMatch(
        /^Bearer realm="api", error="invalid_token"/,
      );
      expect((await app.inject({ url })).statusCode, url).toBe(401);
    }
  });

  it("works as a preHandler too", async () => {
    const app = await build(options(), (instance) => {
      instance.get("/pre", { preHandler: instance.requireScope("orders:read") }, async () => "ok");
    });
    const res = await app.inject({ url: "/pre", headers: await bearer({ scope: "orders:read" }) });
    expect(res.statusCode).toBe(200);
  });

  it("reads the token with a custom getToken(request)", async () => {
    const app = await build(
      { ...options(), getToken: (request) => request.headers["x-token"] as string | undefined },
      (instance) => {
        instance.get("/me", { onRequest: instance.authenticate }, async (request) => ({
          sub: request.auth?.sub,
        }));
      },
    );
    const res = await app.inject({
      url: "/me",
      headers: { "x-token": await issuer.sign({ sub: "x" }) },
    });
    expect(res.json()).toEqual({ sub: "x" });
  });
});

describe("optional", () => {
  it("lets requests without a token through everywhere when set on the plugin", async () => {
    const app = await build({ ...options(), optional: true }, (instance) => {
      instance.get("/me", { onRequest: instance.authenticate }, async (request) => ({
        auth: request.auth,
      }));
      instance.get(
        "/strict",
        { onRequest: instance.authenticate, config: { meishi: { optional: false } } },
        async () => "ok",
      );
    });
    expect((await app.inject({ url: "/me" })).json()).toEqual({ auth: null });
    expect(
      (await app.inject({ url: "/me", headers: { authorization: "Bearer x.y.z" } })).statusCode,
    ).toBe(401);
    expect((await app.inject({ url: "/strict" })).statusCode).toBe(401);
  });
});

describe("protectAllRoutes", () => {
  async function protectedApp(): Promise<FastifyInstance> {
    return build({ ...options(), protectAllRoutes: true }, (instance) => {
      instance.get("/private", async (request) => ({ sub: request.auth?.sub }));
      instance.get("/health", { config: { meishi: { public: true } } }, async (request) => ({
        auth: request.auth,
      }));
      instance.get("/admin", { onRequest: instance.requireRole("admin") }, async () => "ok");
      instance.register(async (child) => {
        child.get("/child", async (request) => ({ sub: request.auth?.sub }));
      });
    });
  }

  it("authenticates every route, including those of child plugins", async () => {
    const app = await protectedApp();
    expect((await app.inject({ url: "/private" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/child" })).statusCode).toBe(401);
    const res = await app.inject({ url: "/child", headers: await bearer({ sub: "kid" }) });
    expect(res.json()).toEqual({ sub: "kid" });
  });

  it("skips routes marked public", async () => {
    const app = await protectedApp();
    const res = await app.inject({ url: "/health", headers: { authorization: "Bearer x.y.z" } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ auth: null });
  });

  it("still runs route guards after the global authentication", async () => {
    const app = await protectedApp();
    expect(
      (await app.inject({ url: "/admin", headers: await bearer({ role: "user" }) })).statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ url: "/admin", headers: await bearer({ role: "admin" }) })).statusCode,
    ).toBe(200);
  });

  it("verifies a request once when a route's own hook authenticates it again", async () => {
    const verified: string[] = [];
    const app = await build(
      {
        ...options(),
        protectAllRoutes: true,
        onEvent: (event) => {
          if (event.type === "token_verified") verified.push(event.type);
        },
      },
      (instance) => {
        instance.get(
          "/twice",
          { onRequest: [instance.authenticate, instance.requireRole("admin")] },
          async (request) => ({ sub: request.auth?.sub }),
        );
      },
    );
    const headers = await bearer({ sub: "once", role: "admin" });
    for (let i = 0; i < 3; i++) {
      expect((await app.inject({ url: "/twice", headers })).json()).toEqual({ sub: "once" });
    }
    expect(verified).toHaveLength(3);
  });

  it("authenticates requests that match no route", async () => {
    const app = await protectedApp();
    expect((await app.inject({ url: "/nowhere" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/nowhere", headers: await bearer() })).statusCode).toBe(404);
  });
});

describe("errors", () => {
  it("throws the core AuthError with statusCode and headers for Fastify's default handler", async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(meishi, options());
    const seen: unknown[] = [];
    app.addHook("onError", async (_request, _reply, error) => {
      seen.push(error);
    });
    app.get("/me", { onRequest: app.authenticate }, async () => "ok");
    const res = await app.inject({ url: "/me", headers: { authorization: "Bearer a b" } });
    expect(res.statusCode).toBe(400);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="api", error="invalid_request"/);
    expect(res.json()).toMatchObject({ statusCode: 400, code: "invalid_request" });
    expect(isAuthError(seen[0])).toBe(true);
  });

  it("authErrorHandler hands other errors on to Fastify's default handler", async () => {
    const app = await build(options(), (instance) => {
      instance.get("/boom", async () => {
        throw new Error("boom");
      });
    });
    const res = await app.inject({ url: "/boom" });
    expect(res.statusCode).toBe(500);
    expect(res.headers["www-authenticate"]).toBeUndefined();
  });

  it("authErrorHandler renders a 503 with Retry-After", async () => {
    issuer.setFault({ kind: "status", status: 500 });
    const app = await build(options(), (instance) => {
      instance.get("/me", { onRequest: instance.authenticate }, async () => "ok");
    });
    const res = await app.inject({ url: "/me", headers: await bearer() });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toMatch(/^\d+$/);
    expect(res.json()).toEqual({
      error: "temporarily_unavailable",
      error_description: "The service cannot verify tokens right now",
    });
  });
});

describe("protectAllRoutes reaches every route or start-up fails", () => {
  it("protects routes registered before the plugin in the same scope and in earlier plugins", async () => {
    const app = Fastify();
    apps.push(app);
    app.get("/early", async () => ({ open: true }));
    await app.register(async (scope) => {
      scope.get("/earlier-plugin", async () => ({ open: true }));
    });
    await app.register(meishi, { ...options(), protectAllRoutes: true });
    await app.ready();
    expect((await app.inject({ url: "/early" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/earlier-plugin" })).statusCode).toBe(401);
  });

  it("fails ready() naming the routes outside an encapsulated registration", async () => {
    const app = Fastify();
    apps.push(app);
    app.get("/root", async () => ({ open: true }));
    app.post("/orders/:id", async () => ({ open: true }));
    app.register(
      async (scope) => {
        scope.get("/sibling", async () => ({ open: true }));
      },
      { prefix: "/v1" },
    );
    app.register(async (scope) => {
      await scope.register(meishi, { ...options(), protectAllRoutes: true });
      scope.get("/inside", async () => ({ open: false }));
      scope.get("/health", { config: { meishi: { public: true } } }, async () => "ok");
    });
    const error = await app.ready().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ name: "ConfigurationError", code: "ERR_MEISHI_CONFIGURATION" });
    expect((error as Error).message).toBe(
      "register(meishi) from @meishi/fastify: protectAllRoutes does not reach GET /root, " +
        "POST /orders/:id, GET /v1/sibling: they are outside the scope meishi was registered in. " +
        "Register meishi on the root instance (or in a fastify-plugin wrapped plugin), or protect " +
        "those routes with { onRequest: fastify.authenticate } in their own scope.",
    );
  });

  it("starts when every route is inside the registration scope", async () => {
    const app = Fastify();
    apps.push(app);
    app.register(async (scope) => {
      await scope.register(meishi, { ...options(), protectAllRoutes: true });
      scope.get("/inside", async () => ({ open: false }));
    });
    await app.ready();
    expect((await app.inject({ url: "/inside" })).statusCode).toBe(401);
  });
});

describe("registration", () => {
  it("refuses a second registration in one scope with a ConfigurationError", async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(meishi, options());
    const error = await app.register(meishi, options()).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ name: "ConfigurationError", code: "ERR_MEISHI_CONFIGURATION" });
    expect((error as Error).message).toMatch(
      /^register\(meishi\) from @meishi\/fastify: the plugin is already registered in this scope/,
    );
  });

  it("refuses an unknown option naming the call, and accepts protectAllRoutes", async () => {
    const app = Fastify();
    apps.push(app);
    app.register(meishi, { ...options(), protectAllRoute: true } as never);
    await expect(app.ready()).rejects.toMatchObject({
      name: "ConfigurationError",
      message:
        "register(meishi) from @meishi/fastify: protectAllRoute is not an option; did you mean protectAllRoutes?",
    });
    const ok = Fastify();
    apps.push(ok);
    await ok.register(meishi, { ...options(), protectAllRoutes: true, optional: false });
    await expect(ok.ready()).resolves.toBe(ok);
  });

  it("names the call in a ConfigurationError for a bad option", async () => {
    const app = Fastify();
    apps.push(app);
    app.register(meishi, 42 as never);
    await expect(app.ready()).rejects.toMatchObject({
      name: "ConfigurationError",
      message:
        "register(meishi) from @meishi/fastify: pass a JWKS URL or options such as { jwksUri, issuer, audience }, got number",
    });
  });

  it("refuses bad guard arguments with a ConfigurationError naming the call", async () => {
    const app = await build(options(), () => {});
    expect(() => app.requireRole()).toThrow(
      expect.objectContaining({
        name: "ConfigurationError",
        message: "requireRole() from @meishi/fastify: name at least one role",
      }),
    );
    expect(() => app.requireScope(["a", "b"] as unknown as string)).toThrow(
      expect.objectContaining({
        message:
          'requireScope() from @meishi/fastify: pass scopes as separate arguments: requireScope("a", "b"), not an array',
      }),
    );
  });

  it("hands request.log to the verifier so refusals land in Fastify's log", async () => {
    const real = createVerifier(options());
    const logs: unknown[] = [];
    const verifier = Object.create(real, {
      authenticate: {
        value: (request: unknown, authOptions: { log?: unknown }) => {
          logs.push(authOptions.log);
          return real.authenticate(request as never, authOptions as never);
        },
      },
    }) as typeof real;
    const seen: unknown[] = [];
    const app = await build({ verifier }, (instance) => {
      instance.get("/me", { onRequest: instance.authenticate }, async (request) => {
        seen.push(request.log);
        return "ok";
      });
    });
    expect((await app.inject({ url: "/me", headers: await bearer() })).statusCode).toBe(200);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toBe(seen[0]);
  });
});

describe("diagnostics in Fastify's log", () => {
  it("logs refusal reasons through request.log, with the request id", async () => {
    const lines: Record<string, unknown>[] = [];
    const app = Fastify({
      logger: {
        level: "warn",
        stream: { write: (line: string) => void lines.push(JSON.parse(line)) },
      },
    });
    apps.push(app);
    await app.register(meishi, options());
    app.get("/me", { onRequest: app.authenticate }, async () => "ok");
    app.get("/admin", { onRequest: app.requireRole("admin") }, async () => "ok");
    await app.ready();
    const expired = await issuer.sign({}, { expiresInSec: -60, issuedAtSec: -120 });
    const res = await app.inject({ url: "/me", headers: { authorization: `Bearer ${expired}` } });
    expect(res.statusCode).toBe(401);
    const forbidden = await app.inject({ url: "/admin", headers: await bearer({ role: "user" }) });
    expect(forbidden.statusCode).toBe(403);
    const text = JSON.stringify(lines);
    expect(text).toContain("token_expired");
    expect(text).toContain("role_missing");
    const expiredLine = lines.find((line) => JSON.stringify(line).includes("token_expired"));
    // request.log is a child logger carrying the request id; the verifier's default logger is not.
    expect(typeof expiredLine?.reqId).toBe("string");
  });
});

describe("routing options cannot skip authentication", () => {
  // Hooks belong to the route a URL finds, so a routing option only changes which URLs find it
  // (401 here) and which find nothing (404); none reaches the handler without a token.
  it.each([
    [
      "caseSensitive: false",
      { routerOptions: { caseSensitive: false } },
      {
        "/admin/users": 401,
        "/ADMIN/users": 401,
        "/Admin/Users/": 404,
        "/%41dmin/users": 401,
        "//admin//users": 404,
      },
    ],
    [
      "ignoreTrailingSlash and ignoreDuplicateSlashes",
      { routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true } },
      {
        "/admin/users": 401,
        "/ADMIN/users": 404,
        "/Admin/Users/": 404,
        "/%41dmin/users": 404,
        "//admin//users": 401,
      },
    ],
    [
      "all three",
      {
        routerOptions: {
          caseSensitive: false,
          ignoreTrailingSlash: true,
          ignoreDuplicateSlashes: true,
        },
      },
      {
        "/admin/users": 401,
        "/ADMIN/users": 401,
        "/Admin/Users/": 401,
        "/%41dmin/users": 401,
        "//admin//users": 401,
      },
    ],
  ])("%s, prefixed scope", async (_name, fastifyOptions, expected: Record<string, number>) => {
    const app = Fastify(fastifyOptions);
    apps.push(app);
    await app.register(meishi, options());
    app.register(
      async (scope) => {
        scope.addHook("onRequest", scope.requireRole("admin"));
        scope.get("/users", async () => ({ reached: true }));
      },
      { prefix: "/admin" },
    );
    await app.ready();
    for (const [url, status] of Object.entries(expected)) {
      const res = await app.inject({ url });
      expect({ url, status: res.statusCode }).toEqual({ url, status });
    }
    const admin = await app.inject({
      url: "/ADMIN/users",
      headers: await bearer({ role: "admin" }),
    });
    expect(admin.statusCode).toBe(expected["/ADMIN/users"] === 401 ? 200 : 404);
  });
});
