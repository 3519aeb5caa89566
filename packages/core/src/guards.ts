import { ConfigurationError } from "./errors.js";
import type { ClaimPath } from "./identity.js";
import {
  type AuthRule,
  allRoles,
  allScopes,
  anyRole,
  anyScope,
  type ClaimExpectation,
  claimMatches,
} from "./rules.js";
import { type AuthTimeOptions, acrIn, authenticatedWithin } from "./step-up.js";

/**
 * The guards every adapter offers, typed by the adapter's handler (an Express
 * `RequestHandler`, a Koa `Middleware`, a Fastify hook). Each one checks its arguments when it
 * is called, at start-up, so a typo never turns into a 401 at request time.
 */
export interface Guards<Handler> {
  /**
   * Passes when the identity has at least one of the roles (exact, case-sensitive); else 403
   * `insufficient_scope`, or 401 when the request has no identity.
   * @throws {ConfigurationError} at start-up when no role, an array or a non-string is passed.
   * @example
   * requireRole("standard user", "admin")
   */
  requireRole(...roles: string[]): Handler;
  /**
   * Passes when the identity has every one of the roles; else 403.
   * @example
   * requireAllRoles("standard user", "auditor")
   */
  requireAllRoles(...roles: string[]): Handler;
  /**
   * Passes when the identity has every one of the scopes; else 403 naming the scopes in the
   * challenge.
   * @example
   * requireScope("orders:read")
   */
  requireScope(...scopes: string[]): Handler;
  /**
   * Passes when the identity has at least one of the scopes; else 403.
   * @example
   * requireAnyScope("orders:read", "orders:admin")
   */
  requireAnyScope(...scopes: string[]): Handler;
  /**
   * Passes when the claim at `path` strictly equals `expected`, or when `expected(value,
   * identity)` returns true (a throwing test counts as a refusal); else 403.
   * @example
   * requireClaim("tenant", "acme")
   * requireClaim("features", (value) => Array.isArray(value) && value.includes("beta"))
   */
  requireClaim(path: ClaimPath, expected: ClaimExpectation): Handler;
  /**
   * Step-up (RFC 9470): passes when the token's `acr` is one of the values; else 401
   * `insufficient_user_authentication` with `acr_values` in the challenge.
   * @example
   * requireAcr("phr")
   */
  requireAcr(...values: string[]): Handler;
  /**
   * Step-up (RFC 9470): passes when the token's `auth_time` is at most `maxAgeSec` ago; else
   * 401 `insufficient_user_authentication` with `max_age` in the challenge.
   * @example
   * requireAuthTime({ maxAgeSec: 300 })
   */
  requireAuthTime(options: AuthTimeOptions): Handler;
}

// The rule builders would throw a bare TypeError; at start-up the developer needs to know which
// of their calls is wrong and how to write it instead.
function checkNames(call: string, kind: string, names: readonly unknown[]): string[] {
  if (names.length === 1 && Array.isArray(names[0])) {
    const quoted = (names[0] as unknown[]).map((name) => JSON.stringify(name)).join(", ");
    throw new ConfigurationError(
      `${call}: pass ${kind}s as separate arguments: ${call.split("(")[0]}(${quoted}), not an array`,
    );
  }
  if (names.length === 0) {
    throw new ConfigurationError(`${call}: name at least one ${kind}`);
  }
  for (const name of names) {
    if (typeof name !== "string" || name === "") {
      throw new ConfigurationError(
        `${call}: every ${kind} must be a non-empty string, got ${describeValue(name)}`,
      );
    }
  }
  return names as string[];
}

function checkClaim(call: string, path: unknown, expected: unknown): void {
  const validPath =
    (typeof path === "string" && path !== "") ||
    (Array.isArray(path) &&
      path.length > 0 &&
      path.every((part) => typeof part === "string" && part !== ""));
  if (!validPath) {
    throw new ConfigurationError(
      `${call}: the claim path must be a non-empty string or array of strings, got ${describeValue(path)}`,
    );
  }
  if (!["string", "number", "boolean", "function"].includes(typeof expected)) {
    throw new ConfigurationError(
      `${call}: expected must be a string, number, boolean or function, got ${describeValue(expected)}`,
    );
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? JSON.stringify(value) : typeof value;
}

/**
 * Writes the five guards once for an adapter, which only says how a rule becomes its
 * framework's handler. Argument errors are `ConfigurationError`s naming the user's call, e.g.
 * `requireRole() from @meishi/express: name at least one role`.
 *
 * @example
 * export const guards: Guards<RequestHandler> = defineGuards("@meishi/express", (rule) => guard(rule));
 */
export function defineGuards<Handler>(
  adapter: string,
  wrap: (rule: AuthRule) => Handler,
): Guards<Handler> {
  const call = (name: string) => `${name}() from ${adapter}`;
  return {
    requireRole: (...roles) => wrap(anyRole(...checkNames(call("requireRole"), "role", roles))),
    requireAllRoles: (...roles) =>
      wrap(allRoles(...checkNames(call("requireAllRoles"), "role", roles))),
    requireScope: (...scopes) =>
      wrap(allScopes(...checkNames(call("requireScope"), "scope", scopes))),
    requireAnyScope: (...scopes) =>
      wrap(anyScope(...checkNames(call("requireAnyScope"), "scope", scopes))),
    requireClaim: (path, expected) => {
      checkClaim(call("requireClaim"), path, expected);
      return wrap(claimMatches(path, expected));
    },
    requireAcr: (...values) => wrap(acrIn(...checkNames(call("requireAcr"), "acr value", values))),
    requireAuthTime: (options) => {
      const maxAgeSec = (options as Partial<AuthTimeOptions> | undefined)?.maxAgeSec;
      if (typeof maxAgeSec !== "number" || !Number.isSafeInteger(maxAgeSec) || maxAgeSec < 0) {
        throw new ConfigurationError(
          `${call("requireAuthTime")}: pass { maxAgeSec }, a whole number of seconds >= 0, got ${describeValue(options)}`,
        );
      }
      return wrap(authenticatedWithin({ maxAgeSec }));
    },
  };
}
