import {
  allRoles,
  allScopes,
  anyRole,
  anyScope,
  type ClaimExpectation,
  type ClaimPath,
  claimMatches,
} from "@meishi/core";
import type { RequestHandler } from "express";
import { guard } from "./jwt-auth.js";

/**
 * Passes when `req.auth` has at least one of the roles (exact, case-sensitive); else 403
 * `insufficient_scope`, or 401 when the request has no identity.
 * @throws {TypeError} at start-up when no role is named.
 * @example
 * app.get("/orders", requireRole("standard user", "admin"), listOrders);
 */
export function requireRole(...roles: string[]): RequestHandler {
  return guard(anyRole(...roles));
}

/**
 * Passes when `req.auth` has every one of the roles; else 403.
 * @example
 * app.delete("/orders/:id", requireAllRoles("standard user", "auditor"), deleteOrder);
 */
export function requireAllRoles(...roles: string[]): RequestHandler {
  return guard(allRoles(...roles));
}

/**
 * Passes when `req.auth` has every one of the scopes; else 403 with the scopes named in the
 * challenge.
 * @example
 * app.get("/orders", requireScope("orders:read"), listOrders);
 */
export function requireScope(...scopes: string[]): RequestHandler {
  return guard(allScopes(...scopes));
}

/**
 * Passes when `req.auth` has at least one of the scopes; else 403.
 * @example
 * app.get("/orders", requireAnyScope("orders:read", "orders:admin"), listOrders);
 */
export function requireAnyScope(...scopes: string[]): RequestHandler {
  return guard(anyScope(...scopes));
}

/**
 * Passes when the claim at `path` strictly equals `expected`, or when `expected(value,
 * identity)` returns true (a throwing test counts as a refusal); else 403.
 * @example
 * app.get("/billing", requireClaim("tenant", "acme"), showBilling);
 * app.get("/beta", requireClaim("features", (value) => Array.isArray(value) && value.includes("beta")), beta);
 */
export function requireClaim(path: ClaimPath, expected: ClaimExpectation): RequestHandler {
  return guard(claimMatches(path, expected));
}
