import {
  createPrivateKey,
  generateKeyPair,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import type { JWK } from "jose";
import type { Db } from "./database.js";

/**
 * Life of a signing key:
 * - `next`: published in the JWKS, not signing yet, so every verifier's cache has it before
 *   the first token it signs arrives;
 * - `current`: the one key that signs;
 * - `retiring`: no longer signs, still published until the last token it signed has expired
 *   (retired_at + access-token lifetime + clock skew); then deleted.
 *
 * The JWKS holds at most `maxPublishedKeys` keys. Rotating faster than tokens expire would
 * otherwise grow it without bound, until verifiers refuse the whole set (meishi caps it at
 * `keySource.maxKeys`) and every token fails. Past the cap the oldest retiring key goes early.
 */
export type KeyState = "next" | "current" | "retiring";

/** What `GET /admin/keys` shows about a key (never the private part). */
export interface KeyInfo {
  kid: string;
  state: KeyState;
  created_at: string;
  activated_at: string | null;
  retired_at: string | null;
  remove_after: string | null;
}

/** The answer of a rotation. */
export interface RotationResult {
  /** The key that signs from now on (the previous `next`). */
  current_kid: string;
  /** Every kid in the JWKS after the rotation: current, next, then retiring ones. */
  published_kids: string[];
}

/** A key ready to sign with. */
export interface SigningKey {
  readonly kid: string;
  readonly key: KeyObject;
}

interface KeyRow {
  kid: string;
  state: KeyState;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  remove_after: number | null;
}

/** A retiring key the cap removed before its `remove_after`. */
type EarlyRemoval = Pick<KeyRow, "kid" | "retired_at" | "remove_after">;

interface NewKey {
  kid: string;
  privateJwk: string;
  publicJwk: string;
}

// Retiring keys oldest first, in the order the cap removes them; rowid breaks ties of a clock
// that did not move.
const STATE_ORDER =
  "CASE state WHEN 'current' THEN 0 WHEN 'next' THEN 1 ELSE 2 END, retired_at, created_at, rowid";
const MODULUS_LENGTH = 2048;

function toNewKey(privateKey: KeyObject): NewKey {
  const kid = randomBytes(9).toString("base64url");
  const { n, e } = privateKey.export({ format: "jwk" });
  if (n === undefined || e === undefined) throw new Error("RSA key export lacks n or e");
  const publicJwk: JWK = { kty: "RSA", n, e, kid, alg: "RS256", use: "sig" };
  return {
    kid,
    privateJwk: JSON.stringify(privateKey.export({ format: "jwk" })),
    publicJwk: JSON.stringify(publicJwk),
  };
}

function generate(): Promise<NewKey> {
  return new Promise((resolve, reject) => {
    generateKeyPair("rsa", { modulusLength: MODULUS_LENGTH }, (error, _publicKey, privateKey) => {
      if (error) reject(error);
      else resolve(toNewKey(privateKey));
    });
  });
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** What the key store needs from the server's configuration. */
export interface KeyStoreOptions {
  readonly now: () => number;
  readonly accessTokenTtlSec: number;
  readonly clockSkewSec: number;
  /** At least 3: current, next, and the key that retired last. */
  readonly maxPublishedKeys: number;
  readonly onWarning: (details: Record<string, unknown>, message: string) => void;
}

/** Signing keys in SQLite, with their rotation states. */
export class KeyStore {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #retentionMs: number;
  readonly #maxPublishedKeys: number;
  readonly #onWarning: KeyStoreOptions["onWarning"];
  readonly #privateKeys = new Map<string, KeyObject>();

  constructor(db: Db, options: KeyStoreOptions) {
    this.#db = db;
    this.#now = options.now;
    this.#retentionMs = (options.accessTokenTtlSec + options.clockSkewSec) * 1000;
    this.#maxPublishedKeys = options.maxPublishedKeys;
    this.#onWarning = options.onWarning;
    this.#ensureKeys();
  }

  /** A first start creates `current` and `next`; a restart keeps what the database has. */
  #ensureKeys(): void {
    const fill = this.#db.transaction((current: NewKey | undefined, next: NewKey | undefined) => {
      const now = this.#now();
      if (current !== undefined) this.#insert(current, "current", now);
      if (next !== undefined) this.#insert(next, "next", now);
    });
    const has = (state: KeyState) =>
      this.#db.prepare("SELECT 1 FROM signing_keys WHERE state = ?").get(state) !== undefined;
    const fresh = () =>
      toNewKey(generateKeyPairSync("rsa", { modulusLength: MODULUS_LENGTH }).privateKey);
    fill(has("current") ? undefined : fresh(), has("next") ? undefined : fresh());
    this.#pruneNow();
  }

  #insert(key: NewKey, state: KeyState, now: number): void {
    this.#db
      .prepare(
        `INSERT INTO signing_keys (kid, state, private_jwk, public_jwk, created_at, activated_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(key.kid, state, key.privateJwk, key.publicJwk, now, state === "current" ? now : null);
  }

  /**
   * {@link #prune} on its own, write-locked so the count and the deletes agree. A plain read
   * first: serving the JWKS must not take the write lock when there is nothing to delete.
   */
  #pruneNow(): void {
    const { total, due } = this.#db
      .prepare(
        `SELECT count(*) AS total,
                count(*) FILTER (WHERE state = 'retiring' AND remove_after <= ?) AS due
         FROM signing_keys`,
      )
      .get(this.#now()) as { total: number; due: number };
    if (due === 0 && total <= this.#maxPublishedKeys) return;
    this.#warnEarly(this.#db.transaction(() => this.#prune()).immediate());
  }

  /**
   * Deletes retiring keys whose last possible token has expired, then, if more than
   * `maxPublishedKeys` keys remain (fast rotations, or a database from a server with a higher
   * cap), the oldest retiring ones. Returns those, for {@link #warnEarly} once committed.
   */
  #prune(): EarlyRemoval[] {
    const now = this.#now();
    const expired = this.#db
      .prepare(
        "DELETE FROM signing_keys WHERE state = 'retiring' AND remove_after <= ? RETURNING kid",
      )
      .all(now) as { kid: string }[];
    for (const { kid } of expired) this.#privateKeys.delete(kid);

    const { count } = this.#db.prepare("SELECT count(*) AS count FROM signing_keys").get() as {
      count: number;
    };
    if (count <= this.#maxPublishedKeys) return [];
    const early = this.#db
      .prepare(
        `DELETE FROM signing_keys WHERE kid IN (
           SELECT kid FROM signing_keys WHERE state = 'retiring'
           ORDER BY retired_at, created_at, rowid LIMIT ?
         ) RETURNING kid, retired_at, remove_after`,
      )
      .all(count - this.#maxPublishedKeys) as EarlyRemoval[];
    for (const { kid } of early) this.#privateKeys.delete(kid);
    return early;
  }

  /**
   * Tells the operator, loudly, about keys removed before their tokens expired: tokens they
   * signed are refused from now on. Called after the commit, and a throwing logger is ignored:
   * it must neither undo nor fail a rotation that happened.
   */
  #warnEarly(removed: readonly EarlyRemoval[]): void {
    for (const row of removed) {
      try {
        this.#onWarning(
          {
            kid: row.kid,
            retiredAt: iso(row.retired_at),
            wouldHaveStayedUntil: iso(row.remove_after),
            maxPublishedKeys: this.#maxPublishedKeys,
          },
          `signing key ${row.kid} removed from the JWKS before its tokens expired, to keep at most ${this.#maxPublishedKeys} published keys; tokens it signed are refused from now on (clients refresh)`,
        );
      } catch {
        // The removal stands whatever the logger does.
      }
    }
  }

  /** The key that signs now. */
  signingKey(): SigningKey {
    const row = this.#db
      .prepare("SELECT kid, private_jwk FROM signing_keys WHERE state = 'current'")
      .get() as Pick<KeyRow, "kid" | "private_jwk"> | undefined;
    if (row === undefined) throw new Error("no current signing key");
    let key = this.#privateKeys.get(row.kid);
    if (key === undefined) {
      key = createPrivateKey({ key: JSON.parse(row.private_jwk) as JsonWebKey, format: "jwk" });
      this.#privateKeys.set(row.kid, key);
    }
    return { kid: row.kid, key };
  }

  /** The public JWKs to publish: current, next, then retiring keys still inside their window. */
  publishedKeys(): JWK[] {
    this.#pruneNow();
    const rows = this.#db
      .prepare(`SELECT public_jwk FROM signing_keys ORDER BY ${STATE_ORDER}`)
      .all() as Pick<KeyRow, "public_jwk">[];
    return rows.map((row) => JSON.parse(row.public_jwk) as JWK);
  }

  /** Every key and its timestamps, for the admin view. */
  list(): KeyInfo[] {
    this.#pruneNow();
    const rows = this.#db
      .prepare(`SELECT * FROM signing_keys ORDER BY ${STATE_ORDER}`)
      .all() as KeyRow[];
    return rows.map((row) => ({
      kid: row.kid,
      state: row.state,
      created_at: iso(row.created_at)!,
      activated_at: iso(row.activated_at),
      retired_at: iso(row.retired_at),
      remove_after: iso(row.remove_after),
    }));
  }

  /**
   * One rotation step: the published `next` key starts signing, the old `current` retires,
   * and a freshly generated key is published as the new `next`. If that makes more than
   * `maxPublishedKeys` keys, the oldest retiring key is removed in the same transaction, so
   * the JWKS never shows more.
   */
  async rotate(): Promise<RotationResult> {
    const incoming = await generate();
    const step = this.#db.transaction((): EarlyRemoval[] => {
      const now = this.#now();
      const next = this.#db.prepare("SELECT kid FROM signing_keys WHERE state = 'next'").get();
      if (next === undefined) throw new Error("no next key to promote");
      this.#db
        .prepare(
          "UPDATE signing_keys SET state = 'retiring', retired_at = ?, remove_after = ? WHERE state = 'current'",
        )
        .run(now, now + this.#retentionMs);
      this.#db
        .prepare("UPDATE signing_keys SET state = 'current', activated_at = ? WHERE state = 'next'")
        .run(now);
      this.#insert(incoming, "next", now);
      return this.#prune();
    });
    this.#warnEarly(step.immediate());
    const published = this.publishedKeys().map((jwk) => jwk.kid!);
    return { current_kid: this.signingKey().kid, published_kids: published };
  }
}
