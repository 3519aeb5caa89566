import {
  type ClaimValue,
  ConfigurationError,
  type IssuerOptions,
  type MultiIssuerOptions,
  type TrustedIssuer,
} from "@meishi/core";

/**
 * Any issuer option of `@meishi/core`, to override what a preset sets: `jwksUri` or `keys` for
 * tests and air-gapped services, `algorithms`, `rolesClaim`, `typ`, `clockToleranceSec`,
 * `keySource` tuning, … `requiredClaims` are added to the preset's own, never replace them.
 * `claims` are added to the preset's too; for a claim the preset checks as well, a token must
 * pass both (you can narrow the preset's values, never widen them).
 */
export type PresetOverrides = IssuerOptions;

/** What a one-issuer preset returns: options for every adapter, and one entry of `issuers`. */
export type IssuerPreset = TrustedIssuer;

/** What a preset returns: one issuer, or several (Entra multi-tenant, v1 and v2 together). */
export type Preset = IssuerPreset | MultiIssuerOptions;

export type Fail = (message: string) => never;

export function failFor(presetName: string): Fail {
  return (message) => {
    throw new ConfigurationError(`${presetName}(): ${message}`);
  };
}

type ClaimChecks = NonNullable<IssuerOptions["claims"]>;

/**
 * Lays the user's overrides over the preset's values; `keys` or `jwksUri` replace the preset's.
 * `requiredClaims` and `claims` are added to the preset's instead, so a user's option meant to
 * add a check cannot drop one of the preset's by accident.
 */
export function withOverrides(
  fail: Fail,
  base: IssuerPreset,
  overrides: PresetOverrides,
): IssuerPreset {
  const merged: Record<string, unknown> = { ...base };
  if (overrides.jwksUri !== undefined || overrides.keys !== undefined) delete merged.jwksUri;
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== undefined) merged[name] = value;
  }
  const required = [...(base.requiredClaims ?? []), ...(overrides.requiredClaims ?? [])];
  if (required.length > 0) merged.requiredClaims = [...new Set(required)];
  const claims = mergeClaims(fail, base.claims, overrides.claims);
  if (claims !== undefined) merged.claims = claims;
  return merged as unknown as IssuerPreset;
}

function valuesOf(expected: ClaimValue | readonly ClaimValue[]): readonly ClaimValue[] {
  return Array.isArray(expected) ? expected : [expected as ClaimValue];
}

/**
 * The user's claim checks beside the preset's. Core takes one list of values per claim, so a
 * claim both name keeps the values both accept: a token passes it only by passing both checks.
 */
function mergeClaims(
  fail: Fail,
  preset: ClaimChecks | undefined,
  user: ClaimChecks | undefined,
): ClaimChecks | undefined {
  if (user === undefined) return preset;
  if (typeof user !== "object" || user === null || Array.isArray(user)) {
    fail('claims must be an object such as { token_use: "access" }');
  }
  if (preset === undefined) return user;
  const merged: Record<string, ClaimValue | readonly ClaimValue[]> = { ...preset };
  for (const [name, expected] of Object.entries(user)) {
    const ours = preset[name];
    if (ours === undefined) {
      merged[name] = expected;
      continue;
    }
    const theirs = valuesOf(expected);
    const both = valuesOf(ours).filter((value) => theirs.includes(value));
    if (both.length === 0) {
      fail(
        `claims.${name}: the preset already requires ${valuesOf(ours)
          .map((value) => JSON.stringify(value))
          .join(" or ")}, and no value passes both checks`,
      );
    }
    merged[name] = both.length === 1 ? both[0]! : both;
  }
  return merged;
}

/** A preset is called with one options object; anything else is a configuration mistake. */
export function requireObject(fail: Fail, options: unknown): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    fail("options must be an object");
  }
}

export function requireString(fail: Fail, name: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") fail(`${name} must be a non-empty string`);
  return (value as string).trim();
}

/** One non-empty string, or a non-empty array of them (a value the token must carry, any of). */
export function requireStrings(
  fail: Fail,
  name: string,
  value: unknown,
): string | readonly string[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((item) => typeof item === "string" && item !== "")) {
    fail(`${name} must be a non-empty string or a non-empty array of them`);
  }
  return value as string | readonly string[];
}

/**
 * `https://` + host for a provider domain given as `tenant.example.com`, `https://tenant.example.com`
 * or with a trailing slash. Anything with a path, query or another scheme is a mistake.
 */
export function httpsOrigin(fail: Fail, name: string, value: unknown): string {
  const text = requireString(fail, name, value);
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return fail(`${name} ${text} is not a host name`);
  }
  if (url.protocol !== "https:" || url.pathname !== "/" || url.search !== "" || url.hash !== "") {
    fail(`${name} must be a bare host name such as "example.com", not ${text}`);
  }
  return url.origin;
}

/**
 * Several presets as one multi-issuer configuration: each token is routed by its `iss` to the
 * preset that names it, and verified with that preset's keys and rules.
 *
 * @throws {ConfigurationError} when no preset is given.
 * @example
 * jwtAuth(multiIssuer(keycloak({ realmUrl, audience: "orders-api" }), google({ audience: serviceUrl })));
 */
export function multiIssuer(...presets: readonly Preset[]): MultiIssuerOptions {
  if (presets.length === 0) throw new ConfigurationError("multiIssuer(): give at least one preset");
  const issuers: TrustedIssuer[] = [];
  for (const preset of presets) {
    if ("issuers" in preset && preset.issuers !== undefined) issuers.push(...preset.issuers);
    else issuers.push(preset as TrustedIssuer);
  }
  return { issuers };
}
