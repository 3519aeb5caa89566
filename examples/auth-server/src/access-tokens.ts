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
}

/**
 * Signs the business card: an RS256 JWT access token (RFC 9068 profile, `typ: at+jwt`) with
 * the user's `sub`, `name` and `role`, the session's `sid`, and a unique `jti`.
 */
export function signAccessToken(user: User, options: AccessTokenOptions): Promise<string> {
  const iat = Math.floor(options.now / 1000);
  return new SignJWT({ name: user.name, role: user.role, sid: options.sessionId })
    .setProtectedHeader({ alg: "RS256", typ: "at+jwt", kid: options.signingKey.kid })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(user.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.ttlSec)
    .setJti(randomUUID())
    .sign(options.signingKey.key);
}
