import {
  allRoles,
  allScopes,
  anyRole,
  anyScope,
  type ClaimExpectation,
  type ClaimPath,
  claimMatches,
} from "@meishi/core";
import type { Middleware } from "koa";
import type { AuthState } from "./augment.js";
import { guard } from "./jwt-auth.js";

/**
 * Passes when `ctx.state.auth` has at least one of the roles (exact, case-sensitive); else 403
 * `insufficient_scope`, or 401 when the request has no identity.
 * @throws {TypeError} at start-up when no role is named.
 * @example
 * router.get("/orders", requireRole("standard user", "admin"), listOrders);
 */
export function requireRole(...roles: string[]): Middleware<AuthState> {
  return guard(anyRole(...roles));
}

/**
 * Passes when `ctx.state.auth` has every one of the roles; else 403.
 * @example
 * router.delete("/orders/:id", requireAllRoles("standard user", "auditor"), deleteOrder);
 */
export function requireAllRoles(...roles: string[]): Middleware<AuthState> {
  return guard(allRoles(...roles));
}

/**
 * Passes when `ctx.state.auth` has every one of the scopes; else 403 with the scopes named in the
 * challenge.
 * @example
 * router.get("/orders", requireScope("orders:read"), listOrders);
 */
export function requireScope(...scopes: string[]): Middleware<AuthState> {
  return guard(allScopes(...scopes));
}

/**
 * Passes when `ctx.state.auth` has at least one of the scopes; else 403.
 * @example
 * router.get("/orders", requireAnyScope("orders:read", "orders:admin"), listOrders);
 */
export function requireAnyScope(...scopes: string[]): Middleware<AuthState> {
  return guard(anyScope(...scopes));
}

/**
 * Passes when the claim at `path` strictly equals `expected`, or when `expected(value,
 * identity)` returns true (a throwing test counts as a refusal); else 403.
 * @example
 * router.get("/billing", requireClaim("tenant", "acme"), showBilling);
 * router.get("/beta", requireClaim("features", (value) => Array.isArray(value) && value.includes("beta")), beta);
 */
export function requireClaim(path: ClaimPath, expected: ClaimExpectation): Middleware<AuthState> {
  return guard(claimMatches(path, expected));
}
