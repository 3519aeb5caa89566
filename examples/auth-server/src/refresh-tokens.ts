import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Db } from "./database.js";

/**
 * Why a refresh token was refused. `family_expired`: the login it belongs to is older than the
 * family's absolute lifetime, however recently it was rotated.
 */
export type RefreshFailure =
  | "unknown"
  | "expired"
  | "family_expired"
  | "revoked"
  | "reused"
  | "dpop_key_mismatch";

/** A fresh login's first refresh token, and the family (session) it starts. */
export interface IssuedRefreshToken {
  readonly refreshToken: string;
  /** Stable for every token of this login; what a logout or a reuse revokes. */
  readonly familyId: string;
}

/** The outcome of presenting a refresh token. */
export type RefreshResult =
  | {
      readonly ok: true;
      readonly sub: string;
      readonly familyId: string;
      readonly refreshToken: string;
      /** The DPoP key the family is bound to, if any. */
      readonly jkt: string | undefined;
    }
  | { readonly ok: false; readonly reason: RefreshFailure };

interface TokenRow {
  family_id: string;
  expires_at: number;
  used_at: number | null;
  sub: string;
  family_created_at: number;
  revoked_at: number | null;
  dpop_jkt: string | null;
}

function hash(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Opaque refresh tokens, stored as SHA-256 hashes and grouped in families (one family per
 * login). Every use rotates the token; presenting a used one again revokes the family.
 *
 * Two clocks bound a family: each token lives `ttlSec` from its issue (an idle timeout, since
 * every rotation starts a new one), and the family as a whole lives `familyTtlSec` from the
 * login. Without the second, a thief who refreshes faster than the owner would keep a stolen
 * session forever. The family's end is computed from its `created_at` and the current setting,
 * so lowering the setting also shortens the sessions already open.
 */
export class RefreshTokenStore {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #familyTtlMs: number;

  constructor(db: Db, options: { now: () => number; ttlSec: number; familyTtlSec: number }) {
    this.#db = db;
    this.#now = options.now;
    this.#ttlMs = options.ttlSec * 1000;
    this.#familyTtlMs = options.familyTtlSec * 1000;
  }

  /** A token never outlives its family, so expiry sweeps need not know the family setting. */
  #insertToken(familyId: string, familyCreatedAt: number, now: number): string {
    const token = newToken();
    const expiresAt = Math.min(now + this.#ttlMs, familyCreatedAt + this.#familyTtlMs);
    this.#db
      .prepare(
        "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
      )
      .run(hash(token), familyId, now, expiresAt);
    return token;
  }

  /**
   * Starts a family for a fresh login and returns its first token. With `jkt` (a DPoP login)
   * every token of the family is bound to that key (RFC 9449 §5).
   */
  issue(sub: string, jkt?: string): IssuedRefreshToken {
    return this.#db.transaction((): IssuedRefreshToken => {
      const now = this.#now();
      this.#forgetExpiredFamilies(now);
      const familyId = randomUUID();
      this.#db
        .prepare("INSERT INTO refresh_families (id, sub, created_at, dpop_jkt) VALUES (?, ?, ?, ?)")
        .run(familyId, sub, now, jkt ?? null);
      return { refreshToken: this.#insertToken(familyId, now, now), familyId };
    })();
  }

  /**
   * Trades a refresh token for the next one in its family. A token that was already traded is
   * a sign that it leaked (the thief or the owner used it first; the server can't tell which),
   * so the whole family is revoked: RFC 9700 §4.14.2. A family past its absolute lifetime is
   * revoked too, whichever of its tokens is presented. A family bound to a DPoP key rotates only
   * for a request whose proof is made with that key (`jkt`); a copied refresh token is useless.
   */
  rotate(token: string, jkt?: string): RefreshResult {
    // One immediate (write-locked) transaction per rotation: two requests racing with the same
    // token can't both win, even across processes sharing the file.
    return this.#db
      .transaction((): RefreshResult => {
        const now = this.#now();
        const row = this.#db
          .prepare(
            `SELECT t.family_id, t.expires_at, t.used_at, f.sub,
                    f.created_at AS family_created_at, f.revoked_at, f.dpop_jkt
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
             WHERE t.token_hash = ?`,
          )
          .get(hash(token)) as TokenRow | undefined;
        if (row === undefined) return { ok: false, reason: "unknown" };
        if (row.revoked_at !== null) return { ok: false, reason: "revoked" };
        if (row.used_at !== null) {
          this.#revoke(row.family_id, "reuse", now);
          return { ok: false, reason: "reused" };
        }
        if (row.family_created_at + this.#familyTtlMs <= now) {
          // Returned, not thrown, so the revocation commits with the transaction.
          this.#revoke(row.family_id, "absolute lifetime", now);
          return { ok: false, reason: "family_expired" };
        }
        if (row.expires_at <= now) return { ok: false, reason: "expired" };
        // Checked before the token is marked used: a thief without the key can't burn it.
        if (row.dpop_jkt !== null && row.dpop_jkt !== jkt) {
          return { ok: false, reason: "dpop_key_mismatch" };
        }
        this.#db
          .prepare("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?")
          .run(now, hash(token));
        const refreshToken = this.#insertToken(row.family_id, row.family_created_at, now);
        return {
          ok: true,
          sub: row.sub,
          familyId: row.family_id,
          refreshToken,
          jkt: row.dpop_jkt ?? undefined,
        };
      })
      .immediate();
  }

  /**
   * Revokes the family of `token` (logout) and returns the family's id, or undefined when the
   * token is unknown.
   */
  revokeByToken(token: string, reason: string): string | undefined {
    const row = this.#db
      .prepare("SELECT family_id FROM refresh_tokens WHERE token_hash = ?")
      .get(hash(token)) as { family_id: string } | undefined;
    if (row === undefined) return undefined;
    this.#revoke(row.family_id, reason, this.#now());
    return row.family_id;
  }

  /** Revokes every family of `sub` (an admin's "revoke everywhere"); returns how many. */
  revokeSubject(sub: string, reason: string): number {
    return this.#db
      .prepare(
        "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? WHERE sub = ? AND revoked_at IS NULL",
      )
      .run(this.#now(), reason, sub).changes;
  }

  /** Revokes a family by id. */
  revokeFamily(familyId: string, reason: string): void {
    this.#revoke(familyId, reason, this.#now());
  }

  /**
   * Deletes families none of whose tokens can still be used (tokens go with them): every token
   * expired, or the family past its absolute lifetime. Until then a family's used tokens are
   * kept: they are what reuse detection recognises.
   */
  #forgetExpiredFamilies(now: number): void {
    this.#db
      .prepare(
        `DELETE FROM refresh_families WHERE created_at <= ? OR NOT EXISTS (
           SELECT 1 FROM refresh_tokens t WHERE t.family_id = refresh_families.id AND t.expires_at > ?
         )`,
      )
      .run(now - this.#familyTtlMs, now);
  }

  #revoke(familyId: string, reason: string, now: number): void {
    this.#db
      .prepare(
        "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
      )
      .run(now, reason, familyId);
  }
}
