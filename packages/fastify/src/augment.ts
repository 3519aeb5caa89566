import type { Identity } from "@meishi/core";
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";

/**
 * `fastify.authenticate`: an `onRequest` (or `preHandler`) hook, and awaitable in a handler.
 * As a hook it is callback-style, so a request whose token the verified-token cache knows
 * passes without a promise.
 */
export interface AuthHook {
  (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
  (request: FastifyRequest, reply?: FastifyReply): Promise<void>;
}

/**
 * A guard hook for `onRequest` / `preHandler`. Callback-style, so a request whose token the
 * verified-token cache knows passes without a promise.
 */
export type GuardHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

/** Per-route settings, under the route's `config.meishi`. */
export interface MeishiRouteConfig {
  /** Skip the authentication `protectAllRoutes` adds (health checks, login pages). */
  public?: boolean;
  /** Let requests without a token through on this route, with `request.auth` null. */
  optional?: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The verified token, or null before authentication / when optional auth saw no token. */
    auth: Identity | null;
  }
  interface FastifyInstance {
    /** Hook that verifies the bearer token and sets `request.auth`. */
    authenticate: AuthHook;
    /** Hook: at least one of the roles (authenticates first when needed). */
    requireRole(...roles: string[]): GuardHook;
    /** Hook: every one of the roles (authenticates first when needed). */
    requireAllRoles(...roles: string[]): GuardHook;
    /** Hook: every one of the scopes (authenticates first when needed). */
    requireScope(...scopes: string[]): GuardHook;
    /** Hook: at least one of the scopes (authenticates first when needed). */
    requireAnyScope(...scopes: string[]): GuardHook;
    /** Hook: the claim at `path` equals `expected`, or `expected(value, identity)` is true. */
    requireClaim(
      path: string | readonly string[],
      expected: string | number | boolean | ((value: unknown, identity: Identity) => boolean),
    ): GuardHook;
    /** Hook, step-up (RFC 9470): the token's `acr` is one of the values, else 401 with `acr_values`. */
    requireAcr(...values: string[]): GuardHook;
    /** Hook, step-up (RFC 9470): `auth_time` at most `maxAgeSec` ago, else 401 with `max_age`. */
    requireAuthTime(options: { maxAgeSec: number }): GuardHook;
  }
  interface FastifyContextConfig {
    /** meishi's per-route settings. */
    meishi?: MeishiRouteConfig;
  }
}
