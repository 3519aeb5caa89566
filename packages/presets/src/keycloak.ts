import {
  failFor,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
  requireString,
  withOverrides,
} from "./preset-options.js";

/** Options of {@link keycloak}. */
export interface KeycloakOptions extends PresetOverrides {
  /** The realm's URL, which is its `iss`: `https://sso.example.com/realms/shop` (`/auth/realms/…` on Keycloak before 17). */
  realmUrl: string;
  /**
   * Expected `aud`. Keycloak puts a client id there only through an audience mapper (or
   * "account" by default): add one for your API. `null` skips it, by name.
   */
  audience: string | readonly string[] | null;
  /** Your API's client id: its client roles (`resource_access.<clientId>.roles`) become roles. */
  clientId?: string;
  /** Count realm roles (`realm_access.roles`) as roles. Default `true`. */
  realmRoles?: boolean;
}

/**
 * Keycloak realm tokens: issuer = the realm URL, keys from
 * `<realmUrl>/protocol/openid-connect/certs`, roles from realm roles and, with `clientId`,
 * that client's roles (client ids with dots work: the path is taken as segments).
 *
 * @throws {ConfigurationError} for a realm URL without `/realms/<name>`, or no role source.
 * @example
 * app.use(jwtAuth(keycloak({ realmUrl: "https://sso.example.com/realms/shop", audience: "orders-api", clientId: "orders-api" })));
 */
export function keycloak(options: KeycloakOptions): IssuerPreset {
  const fail = failFor("keycloak");
  requireObject(fail, options);
  const { realmUrl, audience, clientId, realmRoles = true, ...overrides } = options;
  const realm = requireString(fail, "realmUrl", realmUrl).replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return fail(`realmUrl ${realm} is not a URL`);
  }
  if (!/\/realms\/[^/]+$/.test(url.pathname) || url.search !== "" || url.hash !== "") {
    fail(`realmUrl must end in /realms/<realm name>, e.g. https://sso.example.com/realms/shop`);
  }
  if (clientId !== undefined) requireString(fail, "clientId", clientId);
  const rolePaths: string[][] = [];
  if (realmRoles) rolePaths.push(["realm_access", "roles"]);
  if (clientId !== undefined) rolePaths.push(["resource_access", clientId, "roles"]);
  if (rolePaths.length === 0 && overrides.rolesClaim === undefined) {
    fail("no roles would be read: keep realmRoles, give clientId, or set rolesClaim");
  }
  return withOverrides(
    {
      issuer: realm,
      audience,
      jwksUri: `${realm}/protocol/openid-connect/certs`,
      ...(rolePaths.length > 0 ? { rolesClaim: rolePaths } : {}),
    },
    overrides,
  );
}
