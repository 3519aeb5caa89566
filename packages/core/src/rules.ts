import { InsufficientScopeError, MissingTokenError, type RejectReason } from "./errors.js";
import { safeEmit } from "./events.js";
import { type ClaimPath, type Identity, originOf, readClaim, toStringList } from "./identity.js";

/**
 * An authorization rule, evaluated against a verified identity. Build rules with
 * {@link anyRole}, {@link allRoles}, {@link allScopes}, {@link anyScope},
 * {@link claimEquals}, {@link claimIncludes} and {@link claimSatisfies}.
 */
export interface AuthRule {
  /** Why a refusal happened, for logs. */
  readonly reason: RejectReason;
  /** Scopes to name in the 403 challenge's `scope` attribute. */
  readonly challengeScopes: readonly string[];
  /** Client-safe text for the 403. */
  readonly description: string;
  /** True when the identity passes. */
  test(identity: Identity): boolean;
}

function requireNames(kind: string, names: readonly string[]): void {
  if (names.length === 0 || names.some((name) => typeof name !== "string" || name === "")) {
    throw new TypeError(`${kind} needs at least one non-empty name`);
  }
}

/** Passes when the identity has at least one of the roles (exact, case-sensitive). */
export function anyRole(...roles: string[]): AuthRule {
  requireNames("anyRole", roles);
  return {
    reason: "role_missing",
    challengeScopes: [],
    description: "The access token lacks a required role",
    test: (identity) => roles.some((role) => identity.roles.includes(role)),
  };
}

/** Passes when the identity has every one of the roles. */
export function allRoles(...roles: string[]): AuthRule {
  requireNames("allRoles", roles);
  return {
    reason: "role_missing",
    challengeScopes: [],
    description: "The access token lacks a required role",
    test: (identity) => roles.every((role) => identity.roles.includes(role)),
  };
}

/** Passes when the identity has every one of the scopes. */
export function allScopes(...scopes: string[]): AuthRule {
  requireNames("allScopes", scopes);
  return {
    reason: "scope_missing",
    challengeScopes: scopes,
    description: "The access token lacks a required scope",
    test: (identity) => scopes.every((scope) => identity.scopes.includes(scope)),
  };
}

/** Passes when the identity has at least one of the scopes. */
export function anyScope(...scopes: string[]): AuthRule {
  requireNames("anyScope", scopes);
  return {
    reason: "scope_missing",
    challengeScopes: scopes,
    description: "The access token lacks a required scope",
    test: (identity) => scopes.some((scope) => identity.scopes.includes(scope)),
  };
}

/** Passes when the claim at `path` is strictly equal to `expected` (a string, number or boolean). */
export function claimEquals(path: ClaimPath, expected: string | number | boolean): AuthRule {
  return {
    reason: "claim_check_failed",
    challengeScopes: [],
    description: "The access token does not grant this access",
    test: (identity) => readClaim(identity.claims, path) === expected,
  };
}

/**
 * Passes when the claim at `path` (a string or an array of strings) contains every expected
 * value. A string claim is one value: it is never split on spaces.
 */
export function claimIncludes(path: ClaimPath, ...expected: string[]): AuthRule {
  requireNames("claimIncludes", expected);
  return {
    reason: "claim_check_failed",
    challengeScopes: [],
    description: "The access token does not grant this access",
    test: (identity) => {
      const values = toStringList(readClaim(identity.claims, path));
      return expected.every((value) => values.includes(value));
    },
  };
}

/** Passes when your predicate returns true. A throwing predicate counts as a refusal. */
export function claimSatisfies(
  predicate: (identity: Identity) => boolean,
  description = "The access token does not grant this access",
): AuthRule {
  return {
    reason: "claim_check_failed",
    challengeScopes: [],
    description,
    test: (identity) => {
      try {
        return predicate(identity) === true;
      } catch {
        return false;
      }
    },
  };
}

/** A value a claim must equal, or a test of the claim's value. */
export type ClaimExpectation =
  | string
  | number
  | boolean
  | ((value: unknown, identity: Identity) => boolean);

/**
 * The rule behind every adapter's `requireClaim(path, expected)`: equality for a plain value,
 * your test for a function (given the claim's value and the identity).
 */
export function claimMatches(path: ClaimPath, expected: ClaimExpectation): AuthRule {
  return typeof expected === "function"
    ? claimSatisfies((identity) => expected(readClaim(identity.claims, path), identity))
    : claimEquals(path, expected);
}

/** Options of {@link authorize}. */
export interface AuthorizeOptions {
  /** The challenge's `realm`. Default: the realm of the verifier that made the identity, else `"api"`. */
  realm?: string | undefined;
}

/**
 * Checks an identity against rules (all must pass). Guards in every adapter call this.
 *
 * @throws {MissingTokenError} 401 when there is no identity (no token on an optional route).
 * @throws {InsufficientScopeError} 403 `insufficient_scope` when a rule fails.
 * @example
 * authorize(identity, [anyRole("standard user")]);
 */
export function authorize(
  identity: Identity | undefined | null,
  rules: readonly AuthRule[],
  options: AuthorizeOptions = {},
): asserts identity is Identity {
  if (identity === undefined || identity === null) {
    throw new MissingTokenError({ realm: options.realm });
  }
  for (const rule of rules) {
    if (!rule.test(identity)) {
      const origin = originOf(identity);
      const error = new InsufficientScopeError({
        realm: options.realm ?? origin?.realm,
        reason: rule.reason,
        description: rule.description,
        scopes: rule.challengeScopes,
      });
      safeEmit(origin?.onEvent, {
        type: "token_rejected",
        reason: error.reason,
        status: error.status,
        error,
      });
      throw error;
    }
  }
}
