import type { ClaimValue } from "@meishi/core";
import {
  failFor,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
  requireStrings,
  withOverrides,
} from "./preset-options.js";

/** Options of {@link google}. */
export interface GoogleOptions extends PresetOverrides {
  /**
   * Expected `aud`: for service-to-service ID tokens, the receiving service's URL (the
   * `audience` the caller asked the metadata server or IAM Credentials for); for Sign in with
   * Google, your OAuth client id.
   */
  audience: string | readonly string[];
  /**
   * The caller(s) you accept, checked against `email` (any of): a service account
   * (`billing@my-project.iam.gserviceaccount.com`) or a person. The preset then also requires
   * `email_verified: true`. Default: any caller.
   */
  email?: string | readonly string[];
  /** The Google Workspace domain(s) you accept, checked against `hd` (any of). Default: any, and accounts with no `hd`. */
  hostedDomain?: string | readonly string[];
}

/** Google's issuer. Google also documents `accounts.google.com` for old ID tokens; give it with `issuer` yourself if you still get those. */
export const GOOGLE_ISSUER = "https://accounts.google.com";
/** Google's OAuth 2.0 signing keys, as a JWKS. */
export const GOOGLE_JWKS_URI = "https://www.googleapis.com/oauth2/v3/certs";

/**
 * Google-signed ID tokens, for service-to-service calls (Cloud Run, Cloud Functions, a service
 * account's `generateIdToken`) and Sign in with Google: issuer `https://accounts.google.com`,
 * keys from `https://www.googleapis.com/oauth2/v3/certs`, RS256, `aud` required. Who the caller
 * is lives in `email` and, for Workspace users, `hd`: with `email` the preset requires that
 * address and `email_verified: true`, with `hostedDomain` that `hd`. A refusal is 401
 * `invalid_token`.
 *
 * @throws {ConfigurationError} when `audience` is missing, or `email`/`hostedDomain` are empty.
 * @example
 * app.use(jwtAuth(google({ audience: "https://orders-abc123-ew.a.run.app", email: "billing@my-project.iam.gserviceaccount.com" })));
 */
export function google(options: GoogleOptions): IssuerPreset {
  const fail = failFor("google");
  requireObject(fail, options);
  const { audience, email, hostedDomain, ...overrides } = options;
  // Any Google account can mint an ID token for any audience it names: the audience is what
  // makes a token yours, so it has no `null` form here.
  if (audience === undefined || audience === null) {
    fail("audience is required: your service's URL or your OAuth client id");
  }
  const claims: Record<string, ClaimValue | readonly ClaimValue[]> = {};
  if (email !== undefined) {
    // An unverified address is one the account holder typed in, not one Google vouches for.
    claims.email_verified = true;
    claims.email = requireStrings(fail, "email", email);
  }
  if (hostedDomain !== undefined) claims.hd = requireStrings(fail, "hostedDomain", hostedDomain);
  return withOverrides(
    fail,
    {
      issuer: GOOGLE_ISSUER,
      audience,
      jwksUri: GOOGLE_JWKS_URI,
      algorithms: ["RS256"],
      ...(Object.keys(claims).length > 0 ? { claims } : {}),
    },
    overrides,
  );
}
