export {
  type AuthorizerOptions,
  type AuthorizerRefusal,
  type AuthorizerSettings,
  UNAUTHORIZED_MESSAGE,
} from "./authorizer.js";
export type { ContextValue, IdentityContext } from "./authorizer-context.js";
export {
  createHttpApiAuthorizer,
  type HttpApiAuthorizerSettings,
  type HttpApiPolicyAuthorizer,
  type HttpApiSimpleAuthorizer,
  type HttpApiSimpleResult,
} from "./http-api.js";
export { type JSONWebKeySet, type KeySnapshot, readJwksSnapshot } from "./key-snapshot.js";
export type { AuthorizerPolicyResult, PolicyScope } from "./policy.js";
export {
  createRequestAuthorizer,
  createTokenAuthorizer,
  type RequestAuthorizer,
  type RestAuthorizerSettings,
  type TokenAuthorizer,
} from "./rest-api.js";
