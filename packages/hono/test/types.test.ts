import type { Identity } from "@meishi/core";
import { Hono, type MiddlewareHandler } from "hono";
import { describe, expectTypeOf, it } from "vitest";
import {
  type AuthEnv,
  jwtAuth,
  type MeishiVariables,
  requireClaim,
  requireRole,
} from "../src/index.js";

declare module "@meishi/core" {
  interface Register {
    claims: { tenant?: string };
  }
}

describe("types", () => {
  it('types c.get("auth") through Hono\'s Variables, with Register claims', () => {
    const app = new Hono<AuthEnv>();
    app.get("/", (c) => {
      expectTypeOf(c.get("auth")).toEqualTypeOf<Identity | undefined>();
      expectTypeOf(c.get("auth")?.claims.tenant).toEqualTypeOf<string | undefined>();
      // @ts-expect-error the identity is absent on optional routes: narrow before use
      c.get("auth").sub;
      return c.text("ok");
    });
  });

  it("carries the Variables from the middleware to the handler without an app generic", () => {
    const app = new Hono();
    app.get("/", jwtAuth("https://auth.example.com/jwks.json"), (c) => {
      expectTypeOf(c.get("auth")).toEqualTypeOf<Identity | undefined>();
      return c.text("ok");
    });
  });

  it("returns Hono middleware", () => {
    expectTypeOf(requireRole("admin")).toEqualTypeOf<MiddlewareHandler<AuthEnv>>();
    expectTypeOf<AuthEnv["Variables"]>().toEqualTypeOf<MeishiVariables>();
  });

  it("rejects insecure or wrong option shapes at compile time", () => {
    const check = (_handler: () => unknown) => {};
    // @ts-expect-error issuer and audience are required in the options form (null opts out)
    check(() => jwtAuth({ jwksUri: "https://auth.example.com/jwks.json" }));
    // @ts-expect-error roles are strings
    check(() => requireRole(42));
    // @ts-expect-error an expected claim value is a string, number, boolean or a test
    check(() => requireClaim("tenant", { id: 1 }));
  });
});
