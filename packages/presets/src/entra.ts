import {
  createRemoteKeySource,
  type EventListener,
  type KeySource,
  type MultiIssuerOptions,
  type TrustedIssuer,
} from "@meishi/core";
import {
  type Fail,
  failFor,
  httpsOrigin,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
  withOverrides,
} from "./preset-options.js";

/** Options of {@link entra}. */
export interface EntraOptions extends PresetOverrides {
  /** Single-tenant: your directory (tenant) id, a GUID. */
  tenantId?: string;
  /**
   * Multi-tenant: the tenant ids (GUIDs) allowed to call you. Each becomes one trusted issuer,
   * the `{tenantid}` issuer template bound to that tenant; every other tenant is refused.
   */
  tenants?: readonly string[];
  /**
   * Expected `aud`: your app's client id for v2 tokens; its Application ID URI
   * (`api://<client id>`) or client id for v1 tokens. `null` skips it, by name.
   */
  audience: string | readonly string[] | null;
  /**
   * Token version your API receives, set by `accessTokenAcceptedVersion` in its app manifest
   * (`null` or 1 → v1, 2 → v2). `"1+2"` accepts both. Default `2`.
   */
  tokenVersion?: 1 | 2 | "1+2";
  /** The login host. Default `https://login.microsoftonline.com` (sovereign clouds differ). */
  authority?: string;
  /** Multi-tenant only: where the shared key source reports (give it the verifier's listener). */
  onEvent?: EventListener;
}

const PUBLIC_AUTHORITY = "https://login.microsoftonline.com";
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PSEUDO_TENANTS = ["common", "organizations", "consumers"];

function tenantIdOf(fail: Fail, name: string, value: unknown): string {
  if (typeof value === "string" && PSEUDO_TENANTS.includes(value.toLowerCase())) {
    fail(
      `${name} "${value}" is not a tenant: tokens name the user's own tenant in iss, so list the ` +
        "tenants you accept in tenants: [...] (their keys come from the common endpoint)",
    );
  }
  if (typeof value !== "string" || !TENANT_ID.test(value)) {
    fail(`${name} must be a tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)`);
  }
  return (value as string).toLowerCase();
}

function versionsOf(fail: Fail, value: unknown): readonly (1 | 2)[] {
  if (value === undefined || value === 2) return [2];
  if (value === 1) return [1];
  if (value === "1+2") return [1, 2];
  return fail('tokenVersion must be 1, 2 or "1+2"');
}

function issuerFor(authority: string, tenant: string, version: 1 | 2): string {
  // v1 tokens are issued by the STS host whatever the login host; v2 by the login host.
  return version === 1 ? `https://sts.windows.net/${tenant}/` : `${authority}/${tenant}/v2.0`;
}

function keysPathFor(version: 1 | 2): string {
  return version === 1 ? "discovery/keys" : "discovery/v2.0/keys";
}

/**
 * Microsoft Entra ID (Azure AD) access tokens: v2 issuer `https://login.microsoftonline.com/<tid>/v2.0`
 * or v1 `https://sts.windows.net/<tid>/`, RS256, app roles from `roles`, delegated scopes from `scp`.
 *
 * Single-tenant (`tenantId`) returns one issuer with the tenant's keys. Multi-tenant
 * (`tenants`) returns one trusted issuer per allowed tenant, all sharing one key source on the
 * `common` keys endpoint; the `common`/`organizations` discovery documents are not used, since
 * their `issuer` is the template `…/{tenantid}/v2.0`, which no token carries.
 *
 * Every issuer entry also requires the token's `tid` to be that entry's tenant, so a token
 * whose `tid` disagrees with its `iss` is refused with 401 `invalid_token`.
 *
 * @throws {ConfigurationError} for a missing or malformed tenant id, or `common` given as one.
 * @example
 * app.use(jwtAuth(entra({ tenantId: process.env.TENANT_ID, audience: process.env.CLIENT_ID })));
 * app.use(jwtAuth(entra({ tenants: [contosoTid, fabrikamTid], audience: clientId, onEvent })));
 */
export function entra(options: EntraOptions): IssuerPreset | MultiIssuerOptions {
  const fail = failFor("entra");
  requireObject(fail, options);
  const { tenantId, tenants, audience, tokenVersion, authority, onEvent, ...overrides } = options;
  const login =
    authority === undefined ? PUBLIC_AUTHORITY : httpsOrigin(fail, "authority", authority);
  const versions = versionsOf(fail, tokenVersion);
  const base = { audience, algorithms: ["RS256"], rolesClaim: "roles" } as const;
  if ((tenantId === undefined) === (tenants === undefined)) {
    fail("give tenantId (single-tenant) or tenants (multi-tenant allow-list), not both or neither");
  }
  if (tenantId !== undefined) {
    if (onEvent !== undefined) fail("onEvent is for multi-tenant; give it to the verifier");
    const tenant = tenantIdOf(fail, "tenantId", tenantId);
    const entries = versions.map((version) =>
      withOverrides(
        fail,
        {
          ...base,
          issuer: issuerFor(login, tenant, version),
          claims: { tid: tenant },
          jwksUri: `${login}/${tenant}/${keysPathFor(version)}`,
        },
        overrides,
      ),
    );
    return entries.length === 1 ? entries[0]! : { issuers: entries };
  }
  if (!Array.isArray(tenants) || tenants.length === 0) {
    fail("tenants must be a non-empty array of tenant ids");
  }
  const allowed = [...new Set(tenants!.map((tenant) => tenantIdOf(fail, "tenants[]", tenant)))];
  const keys = sharedKeys(login, versions, overrides, onEvent);
  const {
    jwksUri: _jwksUri,
    keySource: _keySource,
    jwksSnapshot: _jwksSnapshot,
    allowInsecureJwksUri: _allowInsecure,
    ...rules
  } = overrides;
  const issuers: TrustedIssuer[] = [];
  for (const tenant of allowed) {
    for (const version of versions) {
      issuers.push(
        withOverrides(
          fail,
          // The shared keys sign every tenant's tokens, so the issuer alone does not prove the
          // tenant: the token's own `tid` must name the tenant its `iss` does.
          { ...base, issuer: issuerFor(login, tenant, version), claims: { tid: tenant } },
          { ...rules, keys },
        ),
      );
    }
  }
  return { issuers };
}

/** One key source for every allowed tenant: Entra signs all tenants' tokens with the same keys. */
function sharedKeys(
  login: string,
  versions: readonly (1 | 2)[],
  overrides: PresetOverrides,
  onEvent: EventListener | undefined,
): NonNullable<PresetOverrides["keys"]> | KeySource {
  if (overrides.keys !== undefined) return overrides.keys;
  return createRemoteKeySource({
    jwksUri: overrides.jwksUri ?? `${login}/common/${keysPathFor(versions.includes(2) ? 2 : 1)}`,
    algorithms: overrides.algorithms ?? ["RS256"],
    ...(overrides.keySource ?? {}),
    ...(overrides.allowInsecureJwksUri === undefined
      ? {}
      : { allowInsecureJwksUri: overrides.allowInsecureJwksUri }),
    ...(overrides.jwksSnapshot === undefined ? {} : { snapshot: overrides.jwksSnapshot }),
    ...(onEvent === undefined ? {} : { onEvent }),
  });
}
