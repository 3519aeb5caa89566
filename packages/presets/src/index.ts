export { type Auth0Options, auth0 } from "./auth0.js";
export { type CognitoOptions, cognito } from "./cognito.js";
export { type EntraOptions, entra } from "./entra.js";
export { GOOGLE_ISSUER, GOOGLE_JWKS_URI, type GoogleOptions, google } from "./google.js";
export { type KeycloakOptions, keycloak } from "./keycloak.js";
export { type OidcOptions, oidc } from "./oidc.js";
export { type OktaOptions, okta } from "./okta.js";
export {
  type IssuerPreset,
  multiIssuer,
  type Preset,
  type PresetOverrides,
} from "./preset-options.js";
