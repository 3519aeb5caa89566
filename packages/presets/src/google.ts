import {
  failFor,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
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
}

/** Google's issuer. Google also documents `accounts.google.com` for old ID tokens; give it with `issuer` yourself if you still get those. */
export const GOOGLE_ISSUER = "https://accounts.google.com";
/** Google's OAuth 2.0 signing keys, as a JWKS. */
export const GOOGLE_JWKS_URI = "https://www.googleapis.com/oauth2/v3/certs";

/**
 * Google-signed ID tokens, for service-to-service calls (Cloud Run, Cloud Functions, a service
 * account's `generateIdToken`) and Sign in with Google: issuer `https://accounts.google.com`,
 * keys from `https://www.googleapis.com/oauth2/v3/certs`, RS256, `aud` required. Who the caller
 * is lives in `email` (check `email_verified` too) and, for Workspace users, `hd`: check them with
 * guards (see the README).
 *
 * @throws {ConfigurationError} when `audience` is missing.
 * @example
 * app.use(jwtAuth(google({ audience: "https://orders-abc123-ew.a.run.app" })));
 * app.use(requireClaim("email_verified", true), requireClaim("email", "billing@my-project.iam.gserviceaccount.com"));
 */
export function google(options: GoogleOptions): IssuerPreset {
  const fail = failFor("google");
  requireObject(fail, options);
  const { audience, ...overrides } = options;
  // Any Google account can mint an ID token for any audience it names: the audience is what
  // makes a token yours, so it has no `null` form here.
  if (audience === undefined || audience === null) {
    fail("audience is required: your service's URL or your OAuth client id");
  }
  return withOverrides(
    { issuer: GOOGLE_ISSUER, audience, jwksUri: GOOGLE_JWKS_URI, algorithms: ["RS256"] },
    overrides,
  );
}
