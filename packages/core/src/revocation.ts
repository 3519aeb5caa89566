/**
 * Revocation: a deny-list consulted on every request, including verified-token cache hits.
 *
 * A decision never keys on the token string: one token has several valid encodings (base64url
 * slack bits, ECDSA high-S signatures), so a deny-list of strings is bypassed by re-encoding.
 * Entries key on `(iss, jti)`, on `(iss, sub)` with an issued-before time, on `iss` alone, or
 * on `(iss, sid)`.
 */

/** What the verifier asks a store about: identity fields of a verified token, never its text. */
export interface RevocationQuery {
  /** `iss`, when the token has one. */
  readonly issuer: string | undefined;
  /** `jti`, when the token has one. */
  readonly jti: string | undefined;
  /** `sub`, when the token has one. */
  readonly sub: string | undefined;
  /** `sid` (session / refresh-family id), when the token has one. */
  readonly sid: string | undefined;
  /** `iat` in seconds since the epoch, when the token has one. */
  readonly issuedAt: number | undefined;
  /** `exp` in seconds since the epoch (always present: `exp` is required). */
  readonly expiresAt: number;
}

/**
 * Where the verifier looks up revocations. `isRevoked` should answer from memory: the verifier
 * gives it a deadline (`revocationTimeoutMs`) and answers 503 when it is missed or throws.
 */
export interface RevocationStore {
  /** True to refuse the token (401 `invalid_token`, reason `token_revoked`). */
  isRevoked(query: RevocationQuery): boolean | Promise<boolean>;
  /** Loads what the store needs before the first request; awaited by `verifier.ready()`. */
  ready?(): Promise<void>;
}

/** One token, by `(iss, jti)`; remembered until its `exp` plus the clock tolerance. */
export interface TokenRevocation {
  readonly issuer: string;
  readonly jti: string;
  /** The token's `exp`, seconds since the epoch. */
  readonly expiresAt: number;
}

/** Every token of a subject issued before a time ("log out everywhere"). */
export interface SubjectRevocation {
  readonly issuer: string;
  readonly sub: string;
  /** Tokens with `iat` before this (seconds since the epoch) are refused; default now. */
  readonly issuedBefore?: number;
}

/** Every token of an issuer issued before a time (key compromise). */
export interface IssuerRevocation {
  readonly issuer: string;
  /** Tokens with `iat` before this (seconds since the epoch) are refused; default now. */
  readonly issuedBefore?: number;
}

/** Every token carrying a session / refresh-family id (`sid`). */
export interface SessionRevocation {
  readonly issuer: string;
  readonly sid: string;
  /** Until when to remember it (seconds since the epoch): the family's last possible `exp`. */
  readonly expiresAt: number;
}

/** A store that can also be written to: the in-memory one, the Redis one. */
export interface RevocationList extends RevocationStore {
  revokeToken(entry: TokenRevocation): Promise<void>;
  revokeSubject(entry: SubjectRevocation): Promise<void>;
  revokeIssuer(entry: IssuerRevocation): Promise<void>;
  revokeSession(entry: SessionRevocation): Promise<void>;
}
