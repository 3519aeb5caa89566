import {
  failFor,
  type IssuerPreset,
  type PresetOverrides,
  requireObject,
  requireString,
  requireStrings,
  withOverrides,
} from "./preset-options.js";

/** Options of {@link cognito}. */
export interface CognitoOptions extends PresetOverrides {
  /** The user pool id, `<region>_<id>` (e.g. `eu-west-1_AbCdEf123`). */
  userPoolId: string;
  /** The pool's AWS region. Default: the prefix of `userPoolId`. */
  region?: string;
  /**
   * Which Cognito token your API accepts: `"access"` (API calls; `client_id`, no `aud`) or
   * `"id"` (the user's identity; `aud` is the app client id).
   */
  tokenUse: "access" | "id";
  /**
   * The app client id(s) allowed to call you. For ID tokens it is the checked `aud`; access
   * tokens carry it in `client_id`, which the preset checks instead (401 when it differs).
   * `null` accepts every client of the pool, by name.
   */
  clientId: string | readonly string[] | null;
}

const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/;

/**
 * Amazon Cognito user pool tokens: issuer `https://cognito-idp.<region>.amazonaws.com/<pool>`,
 * keys from its `/.well-known/jwks.json`, RS256, roles from `cognito:groups`.
 *
 * Access tokens have no `aud`: the preset skips the audience check and checks `client_id`
 * against `clientId` instead. `token_use` must be the `tokenUse` you chose, so an ID token is
 * never taken for an access token or the other way round; both refusals are 401 `invalid_token`.
 *
 * @throws {ConfigurationError} for a malformed pool id or a region that disagrees with it.
 * @example
 * app.use(jwtAuth(cognito({ userPoolId: "eu-west-1_AbCdEf123", tokenUse: "access", clientId: "4b7o…" })));
 */
export function cognito(options: CognitoOptions): IssuerPreset {
  const fail = failFor("cognito");
  requireObject(fail, options);
  const { userPoolId, region, tokenUse, clientId, ...overrides } = options;
  const poolId = requireString(fail, "userPoolId", userPoolId);
  const match = USER_POOL_ID.exec(poolId);
  if (match === null) fail(`userPoolId ${poolId} is not of the form <region>_<id>`);
  const poolRegion = match![1]!;
  if (region !== undefined && region !== poolRegion) {
    fail(`region ${region} disagrees with userPoolId ${poolId} (${poolRegion})`);
  }
  if (tokenUse !== "access" && tokenUse !== "id") fail('tokenUse must be "access" or "id"');
  if (clientId === undefined) {
    fail("clientId is required; pass null to accept every app client of the pool on purpose");
  }
  if (clientId !== null) requireStrings(fail, "clientId", clientId);
  const issuer = `https://cognito-idp.${poolRegion}.amazonaws.com/${poolId}`;
  return withOverrides(
    fail,
    {
      issuer,
      // Cognito access tokens carry no `aud`; the app client is in `client_id`.
      audience: tokenUse === "id" ? clientId : null,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      algorithms: ["RS256"],
      rolesClaim: "cognito:groups",
      requiredClaims: tokenUse === "access" ? ["token_use", "client_id"] : ["token_use"],
      claims:
        tokenUse === "access" && clientId !== null
          ? { token_use: "access", client_id: clientId }
          : { token_use: tokenUse },
    },
    overrides,
  );
}
