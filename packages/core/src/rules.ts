import type { DiagnosticLogger } from "./diagnostics.js";
import {
  type AuthError,
  ConfigurationError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  MissingTokenError,
  type RefusalDetails,
  type RejectReason,
} from "./errors.js";
import {
  type ClaimPath,
  claimPathSegments,
  type Identity,
  type IdentityOrigin,
  originOf,
  readSegments,
  toStringList,
} from "./identity.js";

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
  /** What was required and what the identity has, for the developer's log. */
  explain?(identity: Identity, origin: IdentityOrigin | undefined): RefusalDetails;
  /**
   * Set on step-up rules (RFC 9470): a refusal is 401 `insufficient_user_authentication` with
   * these `acr_values` / `max_age`, not 403.
   */
  readonly stepUp?: { readonly acrValues?: readonly string[]; readonly maxAgeSec?: number };
}

function requireNames(kind: string, names: readonly string[]): void {
  if (names.length === 1 && Array.isArray(names[0])) {
    const listed = (names[0] as unknown[]).map((name) => JSON.stringify(name)).join(", ");
    throw new ConfigurationError(
      `${kind}() takes names as separate arguments, not an array: ${kind}(${listed})`,
    );
  }
  if (names.length === 0 || names.some((name) => typeof name !== "string" || name === "")) {
    throw new ConfigurationError(`${kind}() needs at least one non-empty string`);
  }
}

function segmentsOf(kind: string, path: ClaimPath): readonly string[] {
  const segments = claimPathSegments(path);
  if (typeof segments === "string") throw new ConfigurationError(`${kind}(): ${segments}`);
  return segments;
}

// Claim names where identity providers commonly put roles, for the hint in a refusal's log.
const ROLE_LIKE_CLAIMS = [
  "role",
  "roles",
  "groups",
  "permissions",
  "cognito:groups",
  "realm_access",
  "resource_access",
  "app_roles",
];

function pathText(path: readonly string[]): string {
  return path.some((segment) => segment.includes(".")) ? JSON.stringify(path) : path.join(".");
}

function explainRoles(kind: "any of" | "all of", roles: readonly string[]) {
  return (identity: Identity, origin: IdentityOrigin | undefined): RefusalDetails => {
    const paths = origin?.rolePaths ?? [["role"]];
    const from = paths.map((path) => `"${pathText(path)}"`).join(", ");
    let message = `roles required (${kind}) ${JSON.stringify(roles)}; roles read from ${from}: `;
    message += identity.roles.length === 0 ? "none" : JSON.stringify(identity.roles);
    if (identity.roles.length === 0) {
      const present = ROLE_LIKE_CLAIMS.filter(
        (name) => Object.hasOwn(identity.claims, name) && !paths.some((path) => path[0] === name),
      );
      if (present.length > 0) {
        message += `; the token has ${present.map((name) => `"${name}"`).join(", ")} (set rolesClaim)`;
      }
    }
    return { check: "role", expected: roles, actual: identity.roles, message };
  };
}

function explainScopes(kind: "any of" | "all of", scopes: readonly string[]) {
  return (identity: Identity): RefusalDetails => ({
    check: "scope",
    expected: scopes,
    actual: identity.scopes,
    message: `scopes required (${kind}) ${JSON.stringify(scopes)}; the token has ${
      identity.scopes.length === 0 ? "none" : JSON.stringify(identity.scopes)
    }`,
  });
}

/** Passes when the identity has at least one of the roles (exact, case-sensitive). */
export function anyRole(...roles: string[]): AuthRule {
  requireNames("anyRole", roles);
  return {
    reason: "role_missing",
    challengeScopes: [],
    description: "The access token lacks a required role",
    test: (identity) => roles.some((role) => identity.roles.includes(role)),
    explain: explainRoles("any of", roles),
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
    explain: explainRoles("all of", roles),
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
    explain: explainScopes("all of", scopes),
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
    explain: explainScopes("any of", scopes),
  };
}

/** Passes when the claim at `path` is strictly equal to `expected` (a string, number or boolean). */
export function claimEquals(path: ClaimPath, expected: string | number | boolean): AuthRule {
  const segments = segmentsOf("claimEquals", path);
  return {
    reason: "claim_check_failed",
    challengeScopes: [],
    description: "The access token does not grant this access",
    test: (identity) => readSegments(identity.claims, segments) === expected,
    explain: () => ({
      check: pathText(segments),
      expected,
      message: `claim "${pathText(segments)}" must equal ${JSON.stringify(expected)}`,
    }),
  };
}

/**
 * Passes when the claim at `path` (a string or an array of strings) contains every expected
 * value. A string claim is one value: it is never split on spaces.
 */
export function claimIncludes(path: ClaimPath, ...expected: string[]): AuthRule {
  requireNames("claimIncludes", expected);
  const segments = segmentsOf("claimIncludes", path);
  return {
    reason: "claim_check_failed",
    challengeScopes: [],
    description: "The access token does not grant this access",
    test: (identity) => {
      const values = toStringList(readSegments(identity.claims, segments));
      return expected.every((value) => values.includes(value));
    },
    explain: () => ({
      check: pathText(segments),
      expected,
      message: `claim "${pathText(segments)}" must include ${JSON.stringify(expected)}`,
    }),
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
  if (typeof expected !== "function") return claimEquals(path, expected);
  const segments = segmentsOf("claimMatches", path);
  return claimSatisfies((identity) => expected(readSegments(identity.claims, segments), identity));
}

/** Options of {@link authorize}. */
export interface AuthorizeOptions {
  /** The challenge's `realm`. Default: the realm of the verifier that made the identity, else `"api"`. */
  realm?: string | undefined;
  /** Where to log the refusal's reason (Fastify's `request.log`). Default: the verifier's logger. */
  log?: DiagnosticLogger | undefined;
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
      const common = {
        realm: options.realm ?? origin?.realm,
        reason: rule.reason,
        description: rule.description,
        details: rule.explain?.(identity, origin),
      };
      const error: AuthError =
        rule.stepUp === undefined
          ? new InsufficientScopeError({ ...common, scopes: rule.challengeScopes })
          : new InsufficientUserAuthenticationError({
              ...common,
              acrValues: rule.stepUp.acrValues,
              maxAgeSec: rule.stepUp.maxAgeSec,
            });
      origin?.report(error, options.log);
      throw error;
    }
  }
}
