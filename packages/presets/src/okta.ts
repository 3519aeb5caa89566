import {
  failFor,
  httpsOrigin,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
  requireString,
  withOverrides,
} from "./preset-options.js";

/** Options of {@link okta}. */
export interface OktaOptions extends PresetOverrides {
  /** Your Okta domain (`dev-123456.okta.com`) or custom domain. */
  domain: string;
  /**
   * The authorization server: a custom one's id (`"default"`, `"aus8abc…"`), which is what your
   * API's access tokens come from; or `null` for the org authorization server, whose access
   * tokens are only for Okta's own APIs (use it for ID tokens).
   */
  authorizationServerId: string | null;
  /** Expected `aud`: the authorization server's audience (`api://default`), or the client id for ID tokens. */
  audience: string | readonly string[] | null;
}

/**
 * Okta tokens: issuer `https://<domain>/oauth2/<authorizationServerId>` (custom authorization
 * server) or `https://<domain>` (org authorization server), keys from its `/v1/keys`, RS256,
 * roles from `groups` (add a Groups claim to the server), scopes from `scp`.
 *
 * @throws {ConfigurationError} when `domain` is not a host name or `authorizationServerId` is missing.
 * @example
 * app.use(jwtAuth(okta({ domain: "dev-123456.okta.com", authorizationServerId: "default", audience: "api://default" })));
 */
export function okta(options: OktaOptions): IssuerPreset {
  const fail = failFor("okta");
  requireObject(fail, options);
  const { domain, authorizationServerId, audience, ...overrides } = options;
  const origin = httpsOrigin(fail, "domain", domain);
  if (authorizationServerId === undefined) {
    fail(
      'authorizationServerId is required: "default" or your server\'s id; null for the org server',
    );
  }
  const issuer =
    authorizationServerId === null
      ? origin
      : `${origin}/oauth2/${encodeURIComponent(requireString(fail, "authorizationServerId", authorizationServerId))}`;
  return withOverrides(
    fail,
    {
      issuer,
      audience,
      jwksUri: authorizationServerId === null ? `${origin}/oauth2/v1/keys` : `${issuer}/v1/keys`,
      algorithms: ["RS256"],
      rolesClaim: "groups",
    },
    overrides,
  );
}
