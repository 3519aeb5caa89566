import {
  failFor,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
  requireString,
  withOverrides,
} from "./preset-options.js";

/** Options of {@link oidc}. */
export interface OidcOptions extends PresetOverrides {
  /** The issuer URL, exactly as tokens carry it in `iss`. */
  issuer: string;
  /** Expected `aud` (RFC 9068: the resource indicator of your API). `null` skips it, by name. */
  audience: string | readonly string[] | null;
}

/**
 * Any OpenID provider: keys found by OIDC discovery (`<issuer>/.well-known/openid-configuration`,
 * whose `issuer` must equal yours exactly), or from `jwksUri` when given. Set `typ: "at+jwt"`
 * when your provider issues RFC 9068 access tokens, so ID tokens are refused.
 *
 * @throws {ConfigurationError} when `issuer` is missing.
 * @example
 * app.use(jwtAuth(oidc({ issuer: "https://id.example.com", audience: "https://api.example.com", typ: "at+jwt" })));
 */
export function oidc(options: OidcOptions): IssuerPreset {
  const fail = failFor("oidc");
  requireObject(fail, options);
  const { issuer, audience, ...overrides } = options;
  return withOverrides(
    fail,
    { issuer: requireString(fail, "issuer", issuer), audience },
    overrides,
  );
}
