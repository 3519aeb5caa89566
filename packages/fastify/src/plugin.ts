import "./augment.js";
import {
  type AuthRule,
  allRoles,
  allScopes,
  anyRole,
  anyScope,
  type ClaimPath,
  claimEquals,
  claimSatisfies,
  createVerifier,
  type Identity,
  readClaim,
  type Verifier,
  type VerifierOptions,
} from "@meishi/core";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { AuthHook } from "./augment.js";

/** Options only the Fastify plugin has. */
export interface FastifyAuthOptions {
  /**
   * Let requests without a token through with `request.auth` null. A token that is sent but
   * invalid is still refused. A route's `config.meishi.optional` overrides it. Default `false`.
   */
  optional?: boolean;
  /**
   * Read the token yourself (return `undefined` for none). Default: the `Authorization`
   * header per RFC 6750 §2.1 (and the cookie or query string when core is told to).
   */
  getToken?: (request: FastifyRequest) => string | undefined | Promise<string | undefined>;
  /**
   * Authenticate every route, with a per-route opt-out `config: { meishi: { public: true } }`.
   * Requests that match no route are authenticated too. Default `false`.
   */
  protectAllRoutes?: boolean;
}

/**
 * Options of the plugin: core's `VerifierOptions` plus the plugin's own, or a prebuilt
 * `verifier` to share one key cache with other code.
 */
export type MeishiPluginOptions =
  | (VerifierOptions & FastifyAuthOptions & { verifier?: undefined })
  | (FastifyAuthOptions & { verifier: Verifier });

/** A value a claim must equal, or a test of the claim's value. */
export type ClaimExpectation =
  | string
  | number
  | boolean
  | ((value: unknown, identity: Identity) => boolean);

function toVerifier(options: MeishiPluginOptions): Verifier {
  if (options.verifier !== undefined) return options.verifier;
  const { optional: _o, getToken: _g, protectAllRoutes: _p, verifier: _v, ...rest } = options;
  return createVerifier(rest as VerifierOptions);
}

function claimRule(path: ClaimPath, expected: ClaimExpectation): AuthRule {
  return typeof expected === "function"
    ? claimSatisfies((identity) => expected(readClaim(identity.claims, path), identity))
    : claimEquals(path, expected);
}

const plugin: FastifyPluginAsync<MeishiPluginOptions> = async (fastify, options) => {
  const verifier = toVerifier(options);
  const { getToken } = options;

  async function authenticate(request: FastifyRequest): Promise<void> {
    // Already done by protectAllRoutes or an earlier hook: the result stands.
    if (request.auth !== null) return;
    const optional = request.routeOptions.config?.meishi?.optional ?? options.optional === true;
    const identity: Identity | undefined = await verifier.authenticate(
      { headers: request.headers, url: request.url },
      getToken === undefined ? { optional } : { optional, getToken: () => getToken(request) },
    );
    request.auth = identity ?? null;
  }

  // Each guard authenticates first, so `{ onRequest: fastify.requireRole("admin") }` is enough.
  const guard =
    (rule: AuthRule): AuthHook =>
    async (request) => {
      await authenticate(request);
      verifier.authorize(request.auth, [rule]);
    };

  // A stable request shape: every request has `auth` from the start (Fastify's decorator rule).
  fastify.decorateRequest("auth", null);
  fastify.decorate("authenticate", authenticate);
  fastify.decorate("requireRole", (...roles: string[]) => guard(anyRole(...roles)));
  fastify.decorate("requireAllRoles", (...roles: string[]) => guard(allRoles(...roles)));
  fastify.decorate("requireScope", (...scopes: string[]) => guard(allScopes(...scopes)));
  fastify.decorate("requireAnyScope", (...scopes: string[]) => guard(anyScope(...scopes)));
  fastify.decorate("requireClaim", (path: ClaimPath, expected: ClaimExpectation) =>
    guard(claimRule(path, expected)),
  );

  if (options.protectAllRoutes === true) {
    fastify.addHook("onRequest", async (request) => {
      if (request.routeOptions.config?.meishi?.public === true) return;
      await authenticate(request);
    });
  }
};

/**
 * The meishi Fastify plugin. Register it once; it decorates `request.auth`,
 * `fastify.authenticate` and the guards `requireRole`, `requireAllRoles`, `requireScope`,
 * `requireAnyScope` and `requireClaim` (each an `onRequest` hook that authenticates first when
 * needed). The verifier is built once, at registration; a bad option fails `register`.
 *
 * Failures are thrown as the core `AuthError`, which carries `statusCode` and the
 * `WWW-Authenticate` header, so Fastify's default error handler already answers correctly;
 * `fastify.setErrorHandler(authErrorHandler)` adds the RFC 6750 JSON body.
 *
 * @example
 * await fastify.register(meishi, { jwksUri, issuer, audience });
 * fastify.get("/orders", { onRequest: fastify.requireRole("standard user") }, (req) => req.auth?.sub);
 */
export const meishi: FastifyPluginAsync<MeishiPluginOptions> = fp(plugin, {
  name: "@meishi/fastify",
  fastify: "5.x",
});
