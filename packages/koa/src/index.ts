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
export type { AuthState } from "./augment.js";
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
export { type JwtAuthOptions, jwtAuth, type KoaAuthOptions } from "./jwt-auth.js";
