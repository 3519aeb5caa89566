import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthServer, type TokenResponse } from "../src/index.js";
import { admin, login, omochi, postJson } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dbFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "meishi-auth-test-"));
  dirs.push(dir);
  return join(dir, "auth.db");
}

describe("state in SQLite", () => {
  it("keeps keys, access tokens and refresh tokens valid across a restart", async () => {
    const database = dbFile();
    const issuer = "http://auth.meishi.test";
    const first = createAuthServer({ port: 0, issuer, database });
    const { url: firstUrl } = await first.listen();
    const tokens = await login(firstUrl, omochi.username, omochi.password);
    const kidsBefore = (await (await fetch(`${firstUrl}/.well-known/jwks.json`)).json()) as {
      keys: unknown[];
    };
    await first.close();
    expect(existsSync(database)).toBe(true); // a named database is never deleted

    const second = createAuthServer({ port: 0, issuer, database });
    try {
      const { url } = await second.listen();
      const kidsAfter = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as {
        keys: unknown[];
      };
      expect(kidsAfter).toEqual(kidsBefore);

      const keySet = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
      await expect(jwtVerify(tokens.access_token, keySet, { issuer })).resolves.toBeDefined();

      const res = await postJson(`${url}/token/refresh`, { refresh_token: tokens.refresh_token });
      expect(res.status).toBe(200);
      const refreshed = (await res.json()) as TokenResponse;
      // Same signing key as before the restart.
      expect(decodeProtectedHeader(refreshed.access_token).kid).toBe(
        decodeProtectedHeader(tokens.access_token).kid,
      );
    } finally {
      await second.close();
    }
  });

  it("remembers rotations and used refresh tokens across a restart", async () => {
    const database = dbFile();
    const issuer = "http://auth.meishi.test";
    const first = createAuthServer({ port: 0, issuer, database });
    const { url: firstUrl } = await first.listen();
    const tokens = await login(firstUrl, admin.username, admin.password);
    const rotation = await first.rotateKeys();
    await postJson(`${firstUrl}/token/refresh`, { refresh_token: tokens.refresh_token });
    await first.close();

    const second = createAuthServer({ port: 0, issuer, database });
    try {
      const { url } = await second.listen();
      const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      expect(jwks.keys.map((key) => key.kid)).toEqual(rotation.published_kids);
      // The refresh token was used before the restart: presenting it again is reuse.
      const replay = await postJson(`${url}/token/refresh`, {
        refresh_token: tokens.refresh_token,
      });
      expect(replay.status).toBe(400);
    } finally {
      await second.close();
    }
  });

  it("stores only hashes of refresh tokens, in an owner-only file", async () => {
    const database = dbFile();
    const server = createAuthServer({ port: 0, database });
    try {
      const { url } = await server.listen();
      const tokens = await login(url, omochi.username, omochi.password);
      const { default: Database } = await import("better-sqlite3");
      const db = new Database(database, { readonly: true });
      const rows = db.prepare("SELECT token_hash FROM refresh_tokens").all() as {
        token_hash: string;
      }[];
      db.close();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.token_hash).not.toBe(tokens.refresh_token);
      expect(statSync(database).mode & 0o777).toBe(0o600);
    } finally {
      await server.close();
    }
  });

  it("forgets refresh-token families once all their tokens have expired", async () => {
    const database = dbFile();
    let now = Date.now();
    const server = createAuthServer({ port: 0, database, now: () => now, refreshTokenTtlSec: 60 });
    try {
      const { url } = await server.listen();
      const old = await login(url, omochi.username, omochi.password);
      await postJson(`${url}/token/refresh`, { refresh_token: old.refresh_token });
      now += 61_000;
      await login(url, omochi.username, omochi.password); // a login sweeps expired families
      const { default: Database } = await import("better-sqlite3");
      const db = new Database(database, { readonly: true });
      const count = (table: string) =>
        (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      expect([count("refresh_families"), count("refresh_tokens")]).toEqual([1, 1]);
      db.close();
    } finally {
      await server.close();
    }
  });

  it("defaults to a fresh temporary database, deleted on close", async () => {
    const a = createAuthServer({ port: 0 });
    const b = createAuthServer({ port: 0 });
    expect(a.databasePath).not.toBe(b.databasePath);
    expect(a.databasePath.startsWith(tmpdir())).toBe(true);
    expect(existsSync(a.databasePath)).toBe(true);
    await Promise.all([a.close(), b.close()]);
    expect(existsSync(a.databasePath)).toBe(false);
  });
});

describe("settings changed across a restart", () => {
  it("applies a lowered family lifetime to sessions already open", async () => {
    const database = dbFile();
    let now = Date.now();
    const clock = () => now;
    const first = createAuthServer({
      port: 0,
      database,
      now: clock,
      refreshFamilyAbsoluteTtlSec: 2_592_000,
    });
    const { url: firstUrl } = await first.listen();
    const tokens = await login(firstUrl, omochi.username, omochi.password);
    await first.close();

    const second = createAuthServer({
      port: 0,
      database,
      now: clock,
      refreshFamilyAbsoluteTtlSec: 3600,
    });
    try {
      const { url } = await second.listen();
      now += 3600_000;
      const res = await postJson(`${url}/token/refresh`, { refresh_token: tokens.refresh_token });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        error: "invalid_grant",
        error_description: expect.stringContaining("maximum lifetime"),
      });
    } finally {
      await second.close();
    }
  });
});
