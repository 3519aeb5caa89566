import { meishi } from "./plugin.js";

export {
  type AuthClaims,
  AuthError,
  type AuthErrorBody,
  type AuthErrorCode,
  type ClaimExpectation,
  createVerifier,
  type Identity,
  isAuthError,
  type Register,
  type Verifier,
  type VerifierOptions,
} from "@meishi/core";
export type { AuthHook, GuardHook, MeishiRouteConfig } from "./augment.js";
export { authErrorHandler } from "./auth-error-handler.js";
export {
  type FastifyAuthOptions,
  type MeishiPluginOptions,
  meishi,
} from "./plugin.js";

export default meishi;
