import { defineGuards, type Guards } from "@meishi/core";
import type { Middleware } from "koa";
import type { AuthState } from "./augment.js";
import { guard } from "./jwt-auth.js";

// Written once in core; here a rule only becomes a Koa handler.
const guards: Guards<Middleware<AuthState>> = defineGuards("@meishi/koa", guard);

/**
 * Passes when `ctx.state.auth` has at least one of the roles (exact, case-sensitive); else 403
 * `insufficient_scope`, or 401 when the request has no identity.
 * @throws {ConfigurationError} at start-up when no role, an array or a non-string is passed.
 * @example
 * router.get("/orders", jwtAuth(options), requireRole("standard user", "admin"), listOrders);
 */
export const requireRole: Guards<Middleware<AuthState>>["requireRole"] = guards.requireRole;

/**
 * Passes when `ctx.state.auth` has every one of the roles; else 403.
 * @example
 * router.delete("/orders/:id", jwtAuth(options), requireAllRoles("standard user", "auditor"), deleteOrder);
 */
export const requireAllRoles: Guards<Middleware<AuthState>>["requireAllRoles"] =
  guards.requireAllRoles;

/**
 * Passes when `ctx.state.auth` has every one of the scopes; else 403 with the scopes named in the
 * challenge.
 * @example
 * router.get("/orders", jwtAuth(options), requireScope("orders:read"), listOrders);
 */
export const requireScope: Guards<Middleware<AuthState>>["requireScope"] = guards.requireScope;

/**
 * Passes when `ctx.state.auth` has at least one of the scopes; else 403.
 * @example
 * router.get("/orders", jwtAuth(options), requireAnyScope("orders:read", "orders:admin"), listOrders);
 */
export const requireAnyScope: Guards<Middleware<AuthState>>["requireAnyScope"] =
  guards.requireAnyScope;

/**
 * Passes when the claim at `path` strictly equals `expected`, or when `expected(value,
 * identity)` returns true (a throwing test counts as a refusal); else 403.
 * @example
 * router.get("/billing", jwtAuth(options), requireClaim("tenant", "acme"), showBilling);
 */
export const requireClaim: Guards<Middleware<AuthState>>["requireClaim"] = guards.requireClaim;

/**
 * Step-up (RFC 9470): passes when the token's `acr` is one of the values; else 401
 * `insufficient_user_authentication` with `acr_values` in the challenge, so the client gets a
 * token with a stronger login.
 * @example
 * router.get("/records", jwtAuth(options), requireAcr("phr"), showRecords);
 */
export const requireAcr: Guards<Middleware<AuthState>>["requireAcr"] = guards.requireAcr;

/**
 * Step-up (RFC 9470): passes when the user authenticated (`auth_time`) at most `maxAgeSec`
 * ago; else 401 `insufficient_user_authentication` with `max_age` in the challenge.
 * @example
 * router.get("/transfer", jwtAuth(options), requireAuthTime({ maxAgeSec: 300 }), transfer);
 */
export const requireAuthTime: Guards<Middleware<AuthState>>["requireAuthTime"] =
  guards.requireAuthTime;
