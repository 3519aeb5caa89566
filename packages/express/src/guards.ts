import { defineGuards, type Guards } from "@meishi/core";
import type { RequestHandler } from "express";
import { guard } from "./jwt-auth.js";

// Written once in core; here a rule only becomes an Express handler.
const guards: Guards<RequestHandler> = defineGuards("@meishi/express", guard);

/**
 * Passes when `req.auth` has at least one of the roles (exact, case-sensitive); else 403
 * `insufficient_scope`, or 401 when the request has no identity.
 * @throws {ConfigurationError} at start-up when no role, an array or a non-string is passed.
 * @example
 * app.get("/orders", jwtAuth(options), requireRole("standard user", "admin"), listOrders);
 */
export const requireRole: Guards<RequestHandler>["requireRole"] = guards.requireRole;

/**
 * Passes when `req.auth` has every one of the roles; else 403.
 * @example
 * app.delete("/orders/:id", jwtAuth(options), requireAllRoles("standard user", "auditor"), deleteOrder);
 */
export const requireAllRoles: Guards<RequestHandler>["requireAllRoles"] = guards.requireAllRoles;

/**
 * Passes when `req.auth` has every one of the scopes; else 403 with the scopes named in the
 * challenge.
 * @example
 * app.get("/orders", jwtAuth(options), requireScope("orders:read"), listOrders);
 */
export const requireScope: Guards<RequestHandler>["requireScope"] = guards.requireScope;

/**
 * Passes when `req.auth` has at least one of the scopes; else 403.
 * @example
 * app.get("/orders", jwtAuth(options), requireAnyScope("orders:read", "orders:admin"), listOrders);
 */
export const requireAnyScope: Guards<RequestHandler>["requireAnyScope"] = guards.requireAnyScope;

/**
 * Passes when the claim at `path` strictly equals `expected`, or when `expected(value,
 * identity)` returns true (a throwing test counts as a refusal); else 403.
 * @example
 * app.get("/billing", jwtAuth(options), requireClaim("tenant", "acme"), showBilling);
 */
export const requireClaim: Guards<RequestHandler>["requireClaim"] = guards.requireClaim;

/**
 * Step-up (RFC 9470): passes when the token's `acr` is one of the values; else 401
 * `insufficient_user_authentication` with `acr_values` in the challenge, so the client gets a
 * token with a stronger login.
 * @example
 * app.get("/records", jwtAuth(options), requireAcr("phr"), showRecords);
 */
export const requireAcr: Guards<RequestHandler>["requireAcr"] = guards.requireAcr;

/**
 * Step-up (RFC 9470): passes when the user authenticated (`auth_time`) at most `maxAgeSec`
 * ago; else 401 `insufficient_user_authentication` with `max_age` in the challenge.
 * @example
 * app.get("/transfer", jwtAuth(options), requireAuthTime({ maxAgeSec: 300 }), transfer);
 */
export const requireAuthTime: Guards<RequestHandler>["requireAuthTime"] = guards.requireAuthTime;
