import {
  failFor,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
  requireString,
  requireStrings,
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
  /**
   * The client(s) allowed to have obtained the token, checked against `azp` (any of): the
   * frontend or service that calls you, e.g. `"shop-frontend"`. Keycloak writes the requesting
   * client there, not your API, so `clientId` is not used for it. Default: any client.
   */
  authorizedParty?: string | readonly string[];
  /** Count realm roles (`realm_access.roles`) as roles. Default `true`. */
  realmRoles?: boolean;
}

/**
 * Keycloak realm access tokens: issuer = the realm URL, keys from
 * `<realmUrl>/protocol/openid-connect/certs`, roles from realm roles and, with `clientId`,
 * that client's roles (client ids with dots work: the path is taken as segments).
 *
 * Keycloak marks its access tokens with the payload claim `typ: "Bearer"` (ID tokens say
 * `"ID"`, refresh tokens `"Refresh"`): the preset requires it, and `azp` too when
 * `authorizedParty` is given. Either refusal is 401 `invalid_token`.
 *
 * @throws {ConfigurationError} for a realm URL without `/realms/<name>`, or no role source.
 * @example
 * app.use(jwtAuth(keycloak({ realmUrl: "https://sso.example.com/realms/shop", audience: "orders-api", clientId: "orders-api", authorizedParty: "shop-frontend" })));
 */
export function keycloak(options: KeycloakOptions): IssuerPreset {
  const fail = failFor("keycloak");
  requireObject(fail, options);
  const {
    realmUrl,
    audience,
    clientId,
    authorizedParty,
    realmRoles = true,
    ...overrides
  } = options;
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
  if (authorizedParty !== undefined) requireStrings(fail, "authorizedParty", authorizedParty);
  const rolePaths: string[][] = [];
  if (realmRoles) rolePaths.push(["realm_access", "roles"]);
  if (clientId !== undefined) rolePaths.push(["resource_access", clientId, "roles"]);
  if (rolePaths.length === 0 && overrides.rolesClaim === undefined) {
    fail("no roles would be read: keep realmRoles, give clientId, or set rolesClaim");
  }
  return withOverrides(
    fail,
    {
      issuer: realm,
      audience,
      jwksUri: `${realm}/protocol/openid-connect/certs`,
      ...(rolePaths.length > 0 ? { rolesClaim: rolePaths } : {}),
      claims:
        authorizedParty === undefined ? { typ: "Bearer" } : { typ: "Bearer", azp: authorizedParty },
    },
    overrides,
  );
}
