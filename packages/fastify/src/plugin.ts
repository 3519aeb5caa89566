import "./augment.js";
import {
  type AdapterOptions,
  type AuthRule,
  allRoles,
  allScopes,
  anyRole,
  anyScope,
  authorizeRequest,
  type ClaimExpectation,
  type ClaimPath,
  claimMatches,
  createRequestAuthenticator,
  type RequestAuthOptions,
} from "@meishi/core";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { AuthHook } from "./augment.js";

/** Options only the Fastify plugin has. */
export interface FastifyAuthOptions extends RequestAuthOptions<FastifyRequest> {
  /**
   * Authenticate every route, with a per-route opt-out `config: { meishi: { public: true } }`.
   * Requests that match no route are authenticated too. Default `false`.
   */
  protectAllRoutes?: boolean;
}

/**
 * Options of the plugin: core's `VerifierOptions` plus `optional`, `getToken` and
 * `protectAllRoutes`, or a prebuilt `verifier` to share one key cache. A route's
 * `config.meishi.optional` overrides `optional`.
 */
export type MeishiPluginOptions = AdapterOptions<FastifyRequest> & {
  protectAllRoutes?: boolean;
};

const plugin: FastifyPluginAsync<MeishiPluginOptions> = async (fastify, options) => {
  const auth = createRequestAuthenticator<FastifyRequest>(options);

  async function authenticate(request: FastifyRequest): Promise<void> {
    // Already done by protectAllRoutes or an earlier hook: the result stands.
    if (request.auth !== null) return;
    const identity = await auth.authenticate(
      request,
      { headers: request.headers, url: request.url, rawHeaders: request.raw.rawHeaders },
      request.routeOptions.config?.meishi?.optional,
    );
    request.auth = identity ?? null;
  }

  // Each guard authenticates first, so `{ onRequest: fastify.requireRole("admin") }` is enough.
  const guard =
    (rule: AuthRule): AuthHook =>
    async (request) => {
      await authenticate(request);
      authorizeRequest(request, request.auth, [rule]);
    };

  // A stable request shape: every request has `auth` from the start (Fastify's decorator rule).
  fastify.decorateRequest("auth", null);
  fastify.decorate("authenticate", authenticate);
  fastify.decorate("requireRole", (...roles: string[]) => guard(anyRole(...roles)));
  fastify.decorate("requireAllRoles", (...roles: string[]) => guard(allRoles(...roles)));
  fastify.decorate("requireScope", (...scopes: string[]) => guard(allScopes(...scopes)));
  fastify.decorate("requireAnyScope", (...scopes: string[]) => guard(anyScope(...scopes)));
  fastify.decorate("requireClaim", (path: ClaimPath, expected: ClaimExpectation) =>
    guard(claimMatches(path, expected)),
  );

  if (options.protectAllRoutes === true) {
    fastify.addHook("onRequest", async (request) => {
      if (request.routeOptions.config?.meishi?.public === true) return;
      await authenticate(request);
    });
  }
};

/**
 * The meishi Fastify plugin. Register it once; it decorates the instance with `authenticate`
 * and guard hooks, and every request with `auth`.
 *
 * @throws {ConfigurationError} at registration for a bad option.
 * @example
 * await fastify.register(meishi, { jwksUri, issuer: "https://auth.example.com", audience: "api" });
 * fastify.get("/orders", { onRequest: fastify.requireRole("standard user") }, (req) => req.auth?.sub);
 */
export const meishi: FastifyPluginAsync<MeishiPluginOptions> = fp(plugin, {
  name: "@meishi/fastify",
  fastify: "5.x",
});
