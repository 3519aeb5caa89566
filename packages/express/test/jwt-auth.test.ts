import { createVerifier, type Identity, isAuthError } from "@meishi/core";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type Response,
} from "express";
import request from "supertest";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { authErrorHandler, jwtAuth } from "../src/index.js";

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

afterEach(() => {
  issuer.resetRequestCounts();
  issuer.setFault(null);
  expect(unhandled).toEqual([]);
});

const options = () => ({
  jwksUri: issuer.jwksUri,
  issuer: issuer.issuer,
  audience: issuer.audience,
});

function appWith(...middleware: express.RequestHandler[]): express.Express {
  const app = express();
  app.set("env", "test");
  app.get("/me", ...middleware, (req, res) => {
    res.json({ sub: req.auth?.sub ?? null });
  });
  app.use(authErrorHandler());
  return app;
}

describe("jwtAuth", () => {
  it("builds its verifier once, not per request", async () => {
    const app = appWith(jwtAuth(options()));
    for (const sub of ["a", "b", "c"]) {
      const token = await issuer.sign({ sub });
      await request(app).get("/me").auth(token, { type: "bearer" }).expect(200, { sub });
    }
    expect(issuer.requests.jwks).toBe(1);
  });

  it("shares a prebuilt verifier between middlewares", async () => {
    const verifier = createVerifier(options());
    const app = express();
    app.get("/a", jwtAuth({ verifier }), (_req, res) => res.end("a"));
    app.get("/b", jwtAuth({ verifier, optional: true }), (_req, res) => res.end("b"));
    await request(app)
      .get("/a")
      .auth(await issuer.sign(), { type: "bearer" })
      .expect(200);
    await request(app)
      .get("/b")
      .auth(await issuer.sign(), { type: "bearer" })
      .expect(200);
    expect(issuer.requests.jwks).toBe(1);
  });

  it("accepts the jwksUri shorthand", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const app = appWith(jwtAuth(issuer.jwksUri));
      const token = await issuer.sign({ sub: "short", aud: "https://anyone.example" });
      await request(app).get("/me").auth(token, { type: "bearer" }).expect(200, { sub: "short" });
    } finally {
      warn.mockRestore();
    }
  });

  it.each([
    ["nothing", undefined],
    ["a number", 42],
  ])("refuses %s with a ConfigurationError naming jwtAuth()", (_name, value) => {
    expect(() => jwtAuth(value as never)).toThrowError(
      /^jwtAuth\(\) from @meishi\/express: pass a JWKS URL or options such as \{ jwksUri, issuer, audience \}, got (nothing|number)$/,
    );
    expect(() => jwtAuth(value as never)).toThrow(
      expect.objectContaining({ name: "ConfigurationError", code: "ERR_MEISHI_CONFIGURATION" }),
    );
  });

  it("refuses an unknown option naming jwtAuth(), and accepts the adapter's own", () => {
    const base = { jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience };
    expect(() => jwtAuth({ ...base, optionl: true } as never)).toThrow(
      expect.objectContaining({
        name: "ConfigurationError",
        message: "jwtAuth() from @meishi/express: optionl is not an option; did you mean optional?",
      }),
    );
    // A Fastify-only option is not one of Express's.
    expect(() => jwtAuth({ ...base, protectAllRoutes: true } as never)).toThrow(
      expect.objectContaining({
        message: "jwtAuth() from @meishi/express: protectAllRoutes is not an option",
      }),
    );
    expect(() => jwtAuth({ ...base, optional: true, getToken: () => undefined })).not.toThrow();
  });

  it("throws a ConfigurationError at start-up, not per request", () => {
    expect(() => jwtAuth({ jwksUri: issuer.jwksUri, issuer: issuer.issuer } as never)).toThrow(
      expect.objectContaining({ code: "ERR_MEISHI_CONFIGURATION" }),
    );
  });

  it("reads the token with a custom getToken(req)", async () => {
    const seen: string[] = [];
    const getToken = (req: Request) => {
      seen.push(req.path);
      return req.get("x-access-token");
    };
    const app = appWith(jwtAuth({ ...options(), getToken }));
    const token = await issuer.sign({ sub: "custom" });
    await request(app).get("/me").set("x-access-token", token).expect(200, { sub: "custom" });
    await request(app).get("/me").auth(token, { type: "bearer" }).expect(401);
    expect(seen).toEqual(["/me", "/me"]);
  });

  it("awaits an async getToken", async () => {
    const token = await issuer.sign({ sub: "async" });
    const app = appWith(jwtAuth({ ...options(), getToken: async () => token }));
    await request(app).get("/me").expect(200, { sub: "async" });
  });

  it("lets a request without a token through when optional", async () => {
    const app = appWith(jwtAuth({ ...options(), optional: true }));
    await request(app).get("/me").expect(200, { sub: null });
    await request(app).get("/me").auth("not.a.token", { type: "bearer" }).expect(401);
  });

  it("hands the core AuthError unchanged to next(err)", async () => {
    const seen: unknown[] = [];
    const app = express();
    app.get("/me", jwtAuth(options()), (_req, res) => res.end());
    const capture: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
      seen.push(error);
      res.status(599).end();
    };
    app.use(capture);
    await request(app).get("/me").auth("x.y.z", { type: "bearer" }).expect(599);
    expect(seen).toHaveLength(1);
    expect(isAuthError(seen[0])).toBe(true);
    expect(seen[0]).toMatchObject({
      code: "invalid_token",
      status: 401,
      statusCode: 401,
      expose: true,
    });
  });

  it("answers through Express's default handler when no error handler is installed", async () => {
    const app = express();
    app.set("env", "test");
    app.get("/me", jwtAuth(options()), (_req, res) => res.end());
    issuer.setFault({ kind: "status", status: 500 });
    const res = await request(app)
      .get("/me")
      .auth(await issuer.sign(), { type: "bearer" });
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toMatch(/^\d+$/);
  });

  it("works as an Express 4 middleware: returns nothing and reports through next", async () => {
    const middleware = jwtAuth(options());
    const req = {
      headers: { authorization: `Bearer ${await issuer.sign({ sub: "four" })}` },
      originalUrl: "/me",
    };
    const outcome = await new Promise<unknown>((resolve) => {
      const returned: unknown = middleware(
        req as unknown as Request,
        {} as Response,
        ((error?: unknown) => resolve(error ?? "next")) as NextFunction,
      );
      expect(returned).toBeUndefined();
    });
    expect(outcome).toBe("next");
    expect((req as { auth?: Identity }).auth?.sub).toBe("four");

    const failed = await new Promise<unknown>((resolve) => {
      middleware(
        { headers: {}, originalUrl: "/me" } as unknown as Request,
        {} as Response,
        resolve as NextFunction,
      );
    });
    expect(failed).toMatchObject({ code: "missing_token", status: 401 });
  });
});
