import {
  failFor,
  httpsOrigin,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
  withOverrides,
} from "./preset-options.js";

/** Options of {@link auth0}. */
export interface Auth0Options extends PresetOverrides {
  /** Your tenant's domain (`my-tenant.us.auth0.com`) or custom domain (`login.example.com`). */
  domain: string;
  /** Your API's identifier, as set in the Auth0 dashboard (APIs → Identifier). `null` skips it, by name. */
  audience: string | readonly string[] | null;
}

/**
 * Auth0 access tokens for your API: issuer `https://<domain>/` (with the trailing slash Auth0
 * puts in `iss`), keys from `https://<domain>/.well-known/jwks.json`, RS256 or PS256, and
 * roles read from `permissions` (API → RBAC Settings → "Add Permissions in the Access Token").
 * Scopes come from `scope` as always.
 *
 * @throws {ConfigurationError} when `domain` is not a host name.
 * @example
 * app.use(jwtAuth(auth0({ domain: "my-tenant.us.auth0.com", audience: "https://orders.example.com" })));
 * app.delete("/orders/:id", requireRole("delete:orders"), deleteOrder); // an RBAC permission
 */
export function auth0(options: Auth0Options): IssuerPreset {
  const fail = failFor("auth0");
  requireObject(fail, options);
  const { domain, audience, ...overrides } = options;
  const origin = httpsOrigin(fail, "domain", domain);
  return withOverrides(
    fail,
    {
      issuer: `${origin}/`,
      audience,
      jwksUri: `${origin}/.well-known/jwks.json`,
      algorithms: ["RS256", "PS256"],
      rolesClaim: "permissions",
    },
    overrides,
  );
}
