import { defineGuards, type Guards } from "@meishi/core";
import type { MiddlewareHandler } from "hono";
import { type AuthEnv, guard } from "./jwt-auth.js";

type Guard = MiddlewareHandler<AuthEnv>;

// Written once in core; here a rule only becomes a Hono middleware.
const guards: Guards<Guard> = defineGuards("@meishi/hono", guard);

/**
 * Passes when `c.get("auth")` has at least one of the roles (exact, case-sensitive); else 403
 * `insufficient_scope`, or 401 when the request has no identity.
 * @throws {ConfigurationError} at start-up when no role, an array or a non-string is passed.
 * @example
 * app.get("/orders", jwtAuth(options), requireRole("standard user", "admin"), listOrders);
 */
export const requireRole: Guards<Guard>["requireRole"] = guards.requireRole;

/**
 * Passes when `c.get("auth")` has every one of the roles; else 403.
 * @example
 * app.delete("/orders/:id", jwtAuth(options), requireAllRoles("standard user", "auditor"), deleteOrder);
 */
export const requireAllRoles: Guards<Guard>["requireAllRoles"] = guards.requireAllRoles;

/**
 * Passes when `c.get("auth")` has every one of the scopes; else 403 with the scopes named in the
 * challenge.
 * @example
 * app.get("/orders", jwtAuth(options), requireScope("orders:read"), listOrders);
 */
export const requireScope: Guards<Guard>["requireScope"] = guards.requireScope;

/**
 * Passes when `c.get("auth")` has at least one of the scopes; else 403.
 * @example
 * app.get("/orders", jwtAuth(options), requireAnyScope("orders:read", "orders:admin"), listOrders);
 */
export const requireAnyScope: Guards<Guard>["requireAnyScope"] = guards.requireAnyScope;

/**
 * Passes when the claim at `path` strictly equals `expected`, or when `expected(value,
 * identity)` returns true (a throwing test counts as a refusal); else 403.
 * @example
 * app.get("/billing", jwtAuth(options), requireClaim("tenant", "acme"), showBilling);
 */
export const requireClaim: Guards<Guard>["requireClaim"] = guards.requireClaim;

/**
 * Step-up (RFC 9470): passes when the token's `acr` is one of the values; else 401
 * `insufficient_user_authentication` with `acr_values` in the challenge.
 * @example
 * app.get("/records", jwtAuth(options), requireAcr("phr"), showRecords);
 */
export const requireAcr: Guards<Guard>["requireAcr"] = guards.requireAcr;

/**
 * Step-up (RFC 9470): passes when `auth_time` is at most `maxAgeSec` ago; else 401
 * `insufficient_user_authentication` with `max_age` in the challenge.
 * @example
 * app.post("/transfer", jwtAuth(options), requireAuthTime({ maxAgeSec: 300 }), transfer);
 */
export const requireAuthTime: Guards<Guard>["requireAuthTime"] = guards.requireAuthTime;
