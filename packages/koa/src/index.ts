export {
  type AuthClaims,
  AuthError,
  type AuthErrorBody,
  type AuthErrorCode,
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
  type ClaimExpectation,
  requireAllRoles,
  requireAnyScope,
  requireClaim,
  requireRole,
  requireScope,
} from "./guards.js";
export { type JwtAuthOptions, jwtAuth, type KoaAuthOptions } from "./jwt-auth.js";
