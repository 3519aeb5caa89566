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
export { authErrorHandler, authErrorResponse } from "./auth-error-response.js";
export {
  requireAcr,
  requireAllRoles,
  requireAnyScope,
  requireAuthTime,
  requireClaim,
  requireRole,
  requireScope,
} from "./guards.js";
export {
  type AuthEnv,
  type HonoAuthOptions,
  type JwtAuthConfig,
  type JwtAuthOptions,
  jwtAuth,
  type MeishiVariables,
} from "./jwt-auth.js";
