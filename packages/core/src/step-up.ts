import { ConfigurationError } from "./errors.js";
import { ownClaim } from "./identity.js";
import type { AuthRule } from "./rules.js";

/**
 * Step-up rule (RFC 9470): passes when the token's `acr` is one of `values`; else 401
 * `insufficient_user_authentication` with `acr_values="…"`, so the client asks the
 * authorization server for a token with a stronger authentication.
 * @example
 * verifier.authorize(identity, [acrIn("phr")]);
 */
export function acrIn(...values: string[]): AuthRule {
  if (values.length === 0 || values.some((value) => typeof value !== "string" || value === "")) {
    throw new ConfigurationError("acrIn() needs at least one non-empty acr value");
  }
  return {
    reason: "acr_insufficient",
    challengeScopes: [],
    description: "A stronger user authentication is required",
    stepUp: { acrValues: [...values] },
    test: (identity) => {
      const acr = ownClaim(identity.claims, "acr");
      return typeof acr === "string" && values.includes(acr);
    },
    explain: (identity) => {
      const acr = ownClaim(identity.claims, "acr");
      return {
        check: "acr",
        expected: values,
        actual: typeof acr === "string" ? acr : undefined,
        message: `acr must be one of ${JSON.stringify(values)}; the token has ${
          typeof acr === "string" ? JSON.stringify(acr) : "none"
        }`,
      };
    },
  };
}

/** Options of {@link authenticatedWithin}. */
export interface AuthTimeOptions {
  /** Largest age of the user's authentication (`auth_time`), in seconds. */
  maxAgeSec: number;
}

/**
 * Step-up rule (RFC 9470): passes when the token's `auth_time` is at most `maxAgeSec` ago; else
 * 401 `insufficient_user_authentication` with `max_age="…"`. A token without `auth_time` fails.
 * @example
 * verifier.authorize(identity, [authenticatedWithin({ maxAgeSec: 300 })]);
 */
export function authenticatedWithin(options: AuthTimeOptions): AuthRule {
  const maxAgeSec = (options as Partial<AuthTimeOptions> | undefined)?.maxAgeSec;
  if (typeof maxAgeSec !== "number" || !Number.isSafeInteger(maxAgeSec) || maxAgeSec < 0) {
    throw new ConfigurationError(
      "authenticatedWithin() needs { maxAgeSec }, a whole number of seconds >= 0",
    );
  }
  return {
    reason: "auth_time_too_old",
    challengeScopes: [],
    description: "A more recent user authentication is required",
    stepUp: { maxAgeSec },
    test: (identity) => {
      const authTime = ownClaim(identity.claims, "auth_time");
      return typeof authTime === "number" && Date.now() / 1000 - authTime <= maxAgeSec;
    },
    explain: (identity) => {
      const authTime = ownClaim(identity.claims, "auth_time");
      return {
        check: "auth_time",
        expected: maxAgeSec,
        actual: typeof authTime === "number" ? authTime : undefined,
        message:
          typeof authTime === "number"
            ? `the user authenticated ${Math.round(Date.now() / 1000 - authTime)} s ago; at most ${maxAgeSec} s allowed`
            : "the token has no auth_time",
      };
    },
  };
}
