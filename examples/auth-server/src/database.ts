import { chmodSync } from "node:fs";
import Database from "better-sqlite3";

/** The open SQLite handle. */
export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS signing_keys (
  kid          TEXT PRIMARY KEY,
  state        TEXT NOT NULL CHECK (state IN ('next', 'current', 'retiring')),
  private_jwk  TEXT NOT NULL,
  public_jwk   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  activated_at INTEGER,
  retired_at   INTEGER,
  remove_after INTEGER
);
-- At most one signing key and one key waiting to sign.
CREATE UNIQUE INDEX IF NOT EXISTS one_current ON signing_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX IF NOT EXISTS one_next ON signing_keys (state) WHERE state = 'next';

CREATE TABLE IF NOT EXISTS refresh_families (
  id             TEXT PRIMARY KEY,
  sub            TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  revoked_at     INTEGER,
  revoked_reason TEXT,
  -- RFC 9449 §5: the thumbprint of the DPoP key a login's refresh tokens are bound to.
  dpop_jkt       TEXT
);

-- Only the SHA-256 of a refresh token is stored: a copy of the database is not a copy of
-- anyone's session.
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
`;

/** Opens (or creates) the state database and makes sure the tables exist. */
export function openDatabase(file: string): Db {
  const db = new Database(file);
  if (file !== ":memory:" && file !== "") {
    // The file holds private signing keys: owner-only.
    chmodSync(file, 0o600);
  }
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  // A database from before DPoP: the family's key binding is a later column.
  const columns = db.prepare("PRAGMA table_info(refresh_families)").all() as { name: string }[];
  if (!columns.some((column) => column.name === "dpop_jkt")) {
    db.exec("ALTER TABLE refresh_families ADD COLUMN dpop_jkt TEXT");
  }
  return db;
}
