import Router from "@koa/router";
import type { Identity } from "@meishi/core";
import Koa from "koa";
import { describe, expectTypeOf, it } from "vitest";
import { type AuthState, jwtAuth, requireRole } from "../src/index.js";

describe("types", () => {
  it("types ctx.state.auth on Koa's DefaultState", () => {
    const app = new Koa();
    app.use((ctx) => {
      expectTypeOf(ctx.state.auth).toEqualTypeOf<Identity | undefined>();
    });
  });

  it("exports AuthState for explicitly typed routers", () => {
    const router = new Router<AuthState>();
    router.get("/", jwtAuth("https://auth.example.com/jwks.json"), requireRole("admin"), (ctx) => {
      expectTypeOf(ctx.state.auth).toEqualTypeOf<Identity | undefined>();
    });
  });

  it("rejects wrong option shapes at compile time", () => {
    const check = (_handler: () => unknown) => {};
    // @ts-expect-error issuer and audience are required in the options form (null opts out)
    check(() => jwtAuth({ jwksUri: "https://auth.example.com/jwks.json" }));
    // @ts-expect-error roles are strings
    check(() => requireRole(1));
  });
});
