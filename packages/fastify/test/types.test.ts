import type { Identity } from "@meishi/core";
import Fastify, { type FastifyInstance } from "fastify";
import { describe, expectTypeOf, it } from "vitest";
import meishi, { type AuthHook, type GuardHook } from "../src/index.js";

describe("types", () => {
  it("types request.auth and the instance decorators", () => {
    // Compile-time only: the decorators exist once the plugin is registered.
    const typeOnly = (app: FastifyInstance) => {
      expectTypeOf(app.authenticate).toEqualTypeOf<AuthHook>();
      expectTypeOf(app.requireRole("admin")).toEqualTypeOf<GuardHook>();
      app.get<{ Params: { id: string } }>(
        "/:id",
        {
          onRequest: [app.authenticate, app.requireScope("read")],
          config: { meishi: { public: false } },
        },
        async (request) => {
          expectTypeOf(request.auth).toEqualTypeOf<Identity | null>();
          return request.params.id;
        },
      );
    };
    expectTypeOf(typeOnly).toBeFunction();
  });

  it("rejects wrong option shapes at compile time", async () => {
    const app = Fastify();
    const check = (_handler: () => unknown) => {};
    // @ts-expect-error issuer and audience are required (null opts out)
    check(() => app.register(meishi, { jwksUri: "https://auth.example.com/jwks.json" }));
    // @ts-expect-error route settings are typed
    check(() => app.get("/", { config: { meishi: { public: "yes" } } }, async () => "x"));
  });
});
