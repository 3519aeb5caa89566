import { type AddressInfo, connect } from "node:net";
import { serve } from "@hono/node-server";
import { ConfigurationError, createVerifier } from "@meishi/core";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthEnv,
  authErrorHandler,
  isAuthError,
  jwtAuth,
  requireRole,
  requireScope,
} from "../src/index.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ["ES256"] });
});

afterAll(async () => {
  await issuer.close();
});

const options = () => ({
  jwksUri: issuer.jwksUri,
  issuer: issuer.issuer,
  audience: issuer.audience,
});

const bearer = async (
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
) => ({
  authorization: `Bearer ${await issuer.sign(claims, { header })}`,
});

function meApp(auth = jwtAuth(options())): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get("/me", auth, (c) => c.json({ sub: c.get("auth")?.sub ?? null }));
  return app;
}

describe("jwtAuth", () => {
  it('sets c.get("auth") to the verified identity', async () => {
    const res = await meApp().request("/me", { headers: await bearer({ sub: "alice" }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: "alice" });
  });

  it('leaves c.get("auth") undefined on an optional route without a token', async () => {
    const app = meApp(jwtAuth({ ...options(), optional: true }));
    const res = await app.request("/me");
    expect(await res.json()).toEqual({ sub: null });
  });

  it("answers without any error handler: Hono's default sends the RFC 6750 response", async () => {
    const res = await meApp().request("/me");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({
      error: "missing_token",
      error_description: "Authentication is required",
    });
  });

  it("accepts RFC 9068 at+jwt access tokens, and can require them", async () => {
    const atJwt = await bearer({ sub: "at" }, { typ: "at+jwt" });
    expect((await meApp().request("/me", { headers: atJwt })).status).toBe(200);
    const strict = meApp(jwtAuth({ ...options(), typ: "at+jwt" }));
    expect((await strict.request("/me", { headers: atJwt })).status).toBe(200);
    expect((await strict.request("/me", { headers: await bearer() })).status).toBe(401);
  });

  it("lets app.onError see the failure as Hono's HTTPException, with the AuthError as cause", async () => {
    const app = meApp();
    const seen: unknown[] = [];
    app.onError((error, c) => {
      seen.push(error);
      return error instanceof HTTPException ? error.getResponse() : c.text("no", 500);
    });
    const res = await app.request("/me", { headers: { authorization: "Bearer not-a-jwt" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(HTTPException);
    expect(isAuthError((seen[0] as HTTPException).cause)).toBe(true);
  });

  it("builds the verifier from the bindings once, on the first request", async () => {
    let built = 0;
    const app = new Hono<{ Bindings: { JWKS_URI: string } } & AuthEnv>();
    app.use(
      jwtAuth((env: { JWKS_URI: string }) => {
        built += 1;
        return { jwksUri: env.JWKS_URI, issuer: issuer.issuer, audience: issuer.audience };
      }),
    );
    app.get("/me", (c) => c.json({ sub: c.get("auth")?.sub }));
    const env = { JWKS_URI: issuer.jwksUri };
    for (const sub of ["a", "b", "c"]) {
      const res = await app.request("/me", { headers: await bearer({ sub }) }, env);
      expect(await res.json()).toEqual({ sub });
    }
    expect(built).toBe(1);
  });

  it("shares a prebuilt verifier's key cache between middlewares", async () => {
    const fresh = await createTestIssuer({ algorithms: ["ES256"] });
    try {
      const verifier = createVerifier({
        jwksUri: fresh.jwksUri,
        issuer: fresh.issuer,
        audience: fresh.audience,
      });
      const app = new Hono<AuthEnv>();
      app.get("/a", jwtAuth({ verifier }), (c) => c.text("a"));
      app.get("/b", jwtAuth({ verifier, optional: true }), (c) => c.text("b"));
      const headers = { authorization: `Bearer ${await fresh.sign()}` };
      expect((await app.request("/a", { headers })).status).toBe(200);
      expect((await app.request("/b", { headers })).status).toBe(200);
      expect(fresh.requests.jwks).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it("throws a ConfigurationError naming the call at start-up", () => {
    // @ts-expect-error no options at all
    expect(() => jwtAuth()).toThrow(ConfigurationError);
    // @ts-expect-error no options at all
    expect(() => jwtAuth()).toThrow(/jwtAuth\(\) from @meishi\/hono/);
    expect(() => requireRole()).toThrow(/requireRole\(\) from @meishi\/hono/);
  });

  it("reads the token with getToken(c)", async () => {
    const app = meApp(jwtAuth({ ...options(), getToken: (c) => c.req.header("x-token") }));
    const res = await app.request("/me", {
      headers: { "x-token": await issuer.sign({ sub: "x" }) },
    });
    expect(await res.json()).toEqual({ sub: "x" });
  });
});

describe("guards", () => {
  it("answer 403 insufficient_scope with the scope in the challenge", async () => {
    const app = new Hono<AuthEnv>();
    app.get("/scoped", jwtAuth(options()), requireScope("orders:read"), (c) => c.text("ok"));
    const res = await app.request("/scoped", { headers: await bearer({ scope: "orders:write" }) });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:read"',
    );
  });

  it("answer 401 on a route without jwtAuth", async () => {
    const app = new Hono<AuthEnv>();
    app.get("/guarded", requireRole("admin"), (c) => c.text("ok"));
    const res = await app.request("/guarded", { headers: await bearer({ role: "admin" }) });
    expect(res.status).toBe(401);
  });
});

describe("authErrorHandler", () => {
  it("answers an AuthError thrown by the app's own code with its RFC 6750 response", async () => {
    const verifier = createVerifier(options());
    const app = new Hono();
    app.onError(authErrorHandler());
    app.get("/manual", async (c) => {
      await verifier.verify("not-a-jwt");
      return c.text("unreachable");
    });
    const res = await app.request("/manual");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: "invalid_token",
      error_description: "The access token is malformed",
    });
  });

  it("passes other errors to the fallback, or answers a bare 500 without leaking them", async () => {
    const failing = (handler: ReturnType<typeof authErrorHandler>) => {
      const app = new Hono();
      app.onError(handler);
      app.get("/boom", () => {
        throw new Error("secret detail");
      });
      app.get("/teapot", () => {
        throw new HTTPException(418, { message: "short and stout" });
      });
      return app;
    };
    const quiet = authErrorHandler((_error, c) => c.json({ error: "internal" }, 500));
    expect(await (await failing(quiet).request("/boom")).json()).toEqual({ error: "internal" });
    const original = console.error;
    console.error = () => {};
    try {
      const bare = await failing(authErrorHandler()).request("/boom");
      expect(bare.status).toBe(500);
      expect(await bare.text()).toBe("Internal Server Error");
    } finally {
      console.error = original;
    }
    const teapot = await failing(authErrorHandler()).request("/teapot");
    expect(teapot.status).toBe(418);
  });
});

describe("on Node (@hono/node-server)", () => {
  it("refuses two Authorization headers as invalid_request, like the Node adapters", async () => {
    const server = serve({ fetch: meApp().fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const token = await issuer.sign();
      // A raw socket: HTTP clients merge or refuse repeated headers before they reach the wire.
      const response = await new Promise<string>((resolve, reject) => {
        let received = "";
        const socket = connect(port, "127.0.0.1", () => {
          socket.end(
            `GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
              `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
          );
        });
        socket.on("data", (chunk) => {
          received += chunk.toString();
        });
        socket.on("end", () => resolve(received));
        socket.on("error", reject);
      });
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(response.toLowerCase()).toContain(
        'www-authenticate: bearer realm="api", error="invalid_request", error_description="the request must carry exactly one authorization header"',
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
