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
export { authErrorHandler } from "./auth-error-handler.js";
export {
  requireAcr,
  requireAllRoles,
  requireAnyScope,
  requireAuthTime,
  requireClaim,
  requireRole,
  requireScope,
} from "./guards.js";
export { type ExpressAuthOptions, type JwtAuthOptions, jwtAuth } from "./jwt-auth.js";
