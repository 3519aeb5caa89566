import type { VerifierOptions } from "@meishi/core";
import meishi, { authErrorHandler } from "@meishi/fastify";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import {
  authBody,
  type Harness,
  type HarnessApp,
  parseBody,
  pickHeaders,
  type StartOptions,
} from "./harness.js";

async function build(
  options: VerifierOptions,
  { errorHandler = true }: StartOptions,
): Promise<FastifyInstance> {
  // Case-blind and slash-lenient like Express's and Koa's default routing, so the routing
  // variants below reach the same routes in every adapter.
  const app = Fastify({
    routerOptions: {
      caseSensitive: false,
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: true,
    },
  });
  await app.register(meishi, options);
  if (errorHandler) app.setErrorHandler(authErrorHandler);
  const send = async (request: FastifyRequest) => authBody(request.auth);
  app.get("/me", { onRequest: app.authenticate }, send);
  // A guard alone authenticates first.
  app.get("/orders", { onRequest: app.requireRole("standard user") }, send);
  app.get("/admin", { onRequest: [app.authenticate, app.requireRole("admin")] }, send);
  app.get("/scoped", { onRequest: app.requireScope("orders:read") }, send);
  app.get("/public", { onRequest: app.authenticate, config: { meishi: { optional: true } } }, send);
  app.get("/guarded", { onRequest: app.requireRole("admin") }, send);
  app.get(
    "/public-admin",
    { onRequest: app.requireRole("admin"), config: { meishi: { optional: true } } },
    send,
  );
  app.get("/acr", { onRequest: app.requireAcr("phr") }, send);
  app.get("/recent", { onRequest: app.requireAuthTime({ maxAgeSec: 300 }) }, send);
  app.register(
    async (area) => {
      area.addHook("onRequest", area.requireRole("admin"));
      area.get("/admin", send);
    },
    { prefix: "/area" },
  );
  await app.ready();
  return app;
}

/** Fastify through `inject` (no socket). */
export const fastifyInjectHarness: Harness = {
  name: "fastify (inject)",
  async start(options, startOptions = {}): Promise<HarnessApp> {
    const app = await build(options, startOptions);
    return {
      async request(path, headers = {}) {
        const res = await app.inject({ method: "GET", url: path, headers });
        const received = pickHeaders((name) => res.headers[name]);
        return {
          status: res.statusCode,
          headers: received,
          body: parseBody(res.body, received["content-type"]),
        };
      },
      close: () => app.close(),
    };
  },
};

/** Fastify over a real socket: `listen({ port: 0 })` and `fetch`. */
export const fastifySocketHarness: Harness = {
  name: "fastify (socket)",
  async start(options, startOptions = {}): Promise<HarnessApp> {
    const app = await build(options, startOptions);
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    return {
      async request(path, headers = {}) {
        const res = await fetch(`${base}${path}`, { headers });
        const received = pickHeaders((name) => res.headers.get(name) ?? undefined);
        return {
          status: res.status,
          headers: received,
          body: parseBody(await res.text(), received["content-type"]),
        };
      },
      close: () => app.close(),
    };
  },
};
