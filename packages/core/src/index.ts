export {
  type AdapterContext,
  type AdapterOptions,
  authorizeRequest,
  createRequestAuthenticator,
  type RequestAuthenticator,
  type RequestAuthOptions,
} from "./adapter-support.js";
export {
  createRemoteKeySource,
  type RemoteKeySourceOptions,
} from "./build-key-source.js";
export {
  type AuthenticateOptions,
  createVerifier,
  createVerifierFor,
  type Verifier,
  type VerifierContext,
} from "./create-verifier.js";
export type { DiagnosticLogger } from "./diagnostics.js";
export { consoleLogger, DIAGNOSTIC_INTERVAL_MS } from "./diagnostics.js";
export {
  accessTokenHash,
  createMemoryNonceSource,
  createMemoryReplayStore,
  DPOP_DEFAULTS,
  type DpopNonceSource,
  type DpopOptions,
  DpopProofError,
  type DpopProofExpectations,
  type DpopReplayStore,
  normalizeHtu,
  type VerifiedDpopProof,
  verifyDpopProof,
} from "./dpop.js";
export {
  type AnyAuthError,
  AuthError,
  type AuthErrorBody,
  type AuthErrorCode,
  type AuthErrorOptions,
  buildChallenge,
  ConfigurationError,
  type DpopErrorOptions,
  InsufficientScopeError,
  type InsufficientScopeErrorOptions,
  InsufficientUserAuthenticationError,
  type InsufficientUserAuthenticationErrorOptions,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  isAuthError,
  MissingTokenError,
  type RefusalDetails,
  type RejectReason,
  ServiceUnavailableError,
  type ServiceUnavailableErrorOptions,
  UseDpopNonceError,
  type UseDpopNonceErrorOptions,
} from "./errors.js";
export type { EventListener, MeishiEvent } from "./events.js";
export {
  extractToken,
  findToken,
  type HeadersLike,
  type TokenRequest,
  type TokenSourceOptions,
} from "./extract-token.js";
export type { FetchFailureReason } from "./fetch-json.js";
export { defineGuards, type Guards } from "./guards.js";
export {
  type AuthClaims,
  type ClaimPath,
  type Identity,
  type Register,
  type RolesClaim,
  readClaim,
} from "./identity.js";
export {
  type JwksSnapshot,
  KEY_SOURCE_DEFAULTS,
  type KeySource,
  type KeySourceOptions,
  type KeySourceStatus,
  type RemoteKeySource,
  type VerificationKey,
} from "./key-source.js";
export {
  createMemoryRevocationList,
  type MemoryRevocationList,
  type MemoryRevocationListOptions,
  type RevocationListSize,
} from "./memory-revocation.js";
export {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  type ClaimValue,
  type CommonVerifierOptions,
  type IssuerOptions,
  type MultiIssuerOptions,
  type SingleIssuerOptions,
  type StaticKeys,
  type TrustedIssuer,
  VERIFIED_TOKEN_CACHE_DEFAULTS,
  type VerifierOptions,
} from "./options.js";
export {
  type MetadataResponse,
  metadataResponse,
  RESOURCE_METADATA_PATH,
  type ResourceMetadata,
  type ResourceMetadataOptions,
} from "./resource-metadata.js";
export type {
  IssuerRevocation,
  RevocationList,
  RevocationQuery,
  RevocationStore,
  SessionRevocation,
  SubjectRevocation,
  TokenRevocation,
} from "./revocation.js";
export {
  type AuthorizeOptions,
  type AuthRule,
  allRoles,
  allScopes,
  anyRole,
  anyScope,
  authorize,
  type ClaimExpectation,
  claimEquals,
  claimIncludes,
  claimMatches,
  claimSatisfies,
} from "./rules.js";
export { type AuthTimeOptions, acrIn, authenticatedWithin } from "./step-up.js";
