import type { Identity } from "@meishi/core";
import express, { type RequestHandler } from "express";
import { describe, expectTypeOf, it } from "vitest";
import { jwtAuth, requireClaim, requireRole } from "../src/index.js";

declare module "@meishi/core" {
  interface Register {
    claims: { tenant?: string };
  }
}

describe("types", () => {
  it("types req.auth by declaration merging, with Register claims", () => {
    const app = express();
    app.get("/", (req, res) => {
      expectTypeOf(req.auth).toEqualTypeOf<Identity | undefined>();
      expectTypeOf(req.auth?.claims.tenant).toEqualTypeOf<string | undefined>();
      res.end();
    });
  });

  it("returns plain Express middleware", () => {
    expectTypeOf(jwtAuth("https://auth.example.com/jwks.json")).toEqualTypeOf<RequestHandler>();
    expectTypeOf(requireRole("admin")).toEqualTypeOf<RequestHandler>();
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
