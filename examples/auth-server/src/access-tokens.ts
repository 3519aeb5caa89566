import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { SigningKey } from "./key-store.js";
import type { User } from "./users.js";

/** Everything an access token needs besides the user. */
export interface AccessTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSec: number;
  readonly now: number;
  readonly signingKey: SigningKey;
  /**
   * The refresh-token family (the login) the token belongs to, sent as `sid` (the session id
   * of OIDC): every access token of a session can be recognised by it, e.g. to revoke them
   * all at logout.
   */
  readonly sessionId: string;
  /** The DPoP key's thumbprint: the token is bound to it as `cnf.jkt` (RFC 9449 §6.1). */
  readonly jkt?: string | undefined;
}

/**
 * Signs the business card: an RS256 JWT access token (RFC 9068 profile, `typ: at+jwt`) with
 * the user's `sub`, `name` and `role`, the session's `sid`, a unique `jti`, and for a DPoP
 * client `cnf.jkt`, which binds the card to the client's key.
 */
export function signAccessToken(user: User, options: AccessTokenOptions): Promise<string> {
  const iat = Math.floor(options.now / 1000);
  const claims: Record<string, unknown> = {
    name: user.name,
    role: user.role,
    sid: options.sessionId,
  };
  if (options.jkt !== undefined) claims.cnf = { jkt: options.jkt };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", typ: "at+jwt", kid: options.signingKey.kid })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(user.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.ttlSec)
    .setJti(randomUUID())
    .sign(options.signingKey.key);
}
