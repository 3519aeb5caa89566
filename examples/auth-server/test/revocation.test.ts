import { createMemoryRevocationList, type RevocationList } from "@meishi/core";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { TokenResponse } from "../src/index.js";
import { admin, login, omochi, postJson, start } from "./helpers.js";

/** What a verifier sharing the list asks about this token, field by field. */
function query(accessToken: string, parts: { jti?: boolean; sid?: boolean; sub?: boolean }) {
  const claims = decodeJwt(accessToken);
  return {
    issuer: claims.iss,
    jti: parts.jti === true ? claims.jti : undefined,
    sub: parts.sub === true ? claims.sub : undefined,
    sid: parts.sid === true ? (claims.sid as string) : undefined,
    issuedAt: claims.iat,
    expiresAt: claims.exp!,
  };
}
const everything = { jti: true, sid: true, sub: true };

const logout = (url: string, tokens: TokenResponse, accessToken = tokens.access_token) =>
  postJson(
    `${url}/logout`,
    { refresh_token: tokens.refresh_token },
    { authorization: `Bearer ${accessToken}` },
  );

const revokeUser = (url: string, sub: string, accessToken: string) =>
  postJson(`${url}/admin/users/${sub}/revoke`, {}, { authorization: `Bearer ${accessToken}` });

/** A list Redis could not write to: reads work, every revoke rejects. */
function unwritableList(): RevocationList {
  const list = createMemoryRevocationList();
  const down = () => Promise.reject(new Error("connection is closed"));
  return {
    isRevoked: (q) => list.isRevoked(q),
    revokeToken: down,
    revokeSubject: down,
    revokeIssuer: down,
    revokeSession: down,
  };
}

describe("logout with a revocation list", () => {
  it("revokes the presented access token by jti and every token of its session by sid", async () => {
    const revocation = createMemoryRevocationList();
    const { url } = await start({ revocation, onError: () => {} });
    const session = await login(url, omochi.username, omochi.password);
    const other = await login(url, omochi.username, omochi.password);
    expect(revocation.isRevoked(query(session.access_token, everything))).toBe(false);

    expect((await logout(url, session)).status).toBe(204);

    expect(revocation.isRevoked(query(session.access_token, { jti: true }))).toBe(true);
    expect(revocation.isRevoked(query(session.access_token, { sid: true }))).toBe(true);
    // Another login of the same user is another session: untouched.
    expect(revocation.isRevoked(query(other.access_token, everything))).toBe(false);
  });

  it("revokes the session even when no access token is sent", async () => {
    const revocation = createMemoryRevocationList();
    const { url } = await start({ revocation });
    const session = await login(url, omochi.username, omochi.password);
    const res = await postJson(`${url}/logout`, { refresh_token: session.refresh_token });
    expect(res.status).toBe(204);
    expect(revocation.isRevoked(query(session.access_token, { sid: true }))).toBe(true);
    expect(revocation.isRevoked(query(session.access_token, { jti: true }))).toBe(false);
  });

  it("ignores an access token of another session: nobody can revoke a card they don't own", async () => {
    const revocation = createMemoryRevocationList();
    const { url } = await start({ revocation });
    const mine = await login(url, omochi.username, omochi.password);
    const someoneElse = await login(url, admin.username, admin.password);
    expect((await logout(url, mine, someoneElse.access_token)).status).toBe(204);
    expect(revocation.isRevoked(query(someoneElse.access_token, everything))).toBe(false);
    expect(revocation.isRevoked(query(mine.access_token, { sid: true }))).toBe(true);
  });

  it("answers 503 temporarily_unavailable when the list cannot be written (the refresh token is dead already)", async () => {
    const { url } = await start({ revocation: unwritableList(), onError: () => {} });
    const session = await login(url, omochi.username, omochi.password);
    const res = await logout(url, session);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: "temporarily_unavailable" });
    // A retry is only about the access tokens: revoking the family again is harmless.
    const refreshed = await postJson(`${url}/token/refresh`, {
      refresh_token: session.refresh_token,
    });
    expect(refreshed.status).toBe(400);
  });
});

describe("POST /admin/users/:sub/revoke", () => {
  it("revokes every access and refresh token of the user, and only theirs", async () => {
    const revocation = createMemoryRevocationList();
    const { url } = await start({ revocation });
    const phone = await login(url, omochi.username, omochi.password);
    const laptop = await login(url, omochi.username, omochi.password);
    const boss = await login(url, admin.username, admin.password);

    const res = await revokeUser(url, "00123", boss.access_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      sub: "00123",
      revoked_refresh_families: 2,
      access_tokens_revoked: true,
    });

    for (const tokens of [phone, laptop]) {
      expect(revocation.isRevoked(query(tokens.access_token, { sub: true }))).toBe(true);
      const refreshed = await postJson(`${url}/token/refresh`, {
        refresh_token: tokens.refresh_token,
      });
      expect(refreshed.status).toBe(400);
    }
    expect(revocation.isRevoked(query(boss.access_token, everything))).toBe(false);
  });

  it("is for admins only, and checks its own list: a revoked admin is refused", async () => {
    const revocation = createMemoryRevocationList();
    const { url } = await start({ revocation });
    const user = await login(url, omochi.username, omochi.password);
    expect((await revokeUser(url, "00001", user.access_token)).status).toBe(403);
    expect((await postJson(`${url}/admin/users/00123/revoke`, {})).status).toBe(401);

    const boss = await login(url, admin.username, admin.password);
    const adminSub = decodeJwt(boss.access_token).sub!;
    expect((await revokeUser(url, adminSub, boss.access_token)).status).toBe(200);
    const again = await revokeUser(url, "00123", boss.access_token);
    expect(again.status).toBe(401);
    expect(again.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("answers 404 for an unknown user", async () => {
    const { url } = await start({ revocation: createMemoryRevocationList() });
    const boss = await login(url, admin.username, admin.password);
    const res = await revokeUser(url, "nobody", boss.access_token);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });

  it("without a list revokes the refresh tokens and says the access tokens live on", async () => {
    const { url } = await start();
    const session = await login(url, omochi.username, omochi.password);
    const boss = await login(url, admin.username, admin.password);
    const res = await revokeUser(url, "00123", boss.access_token);
    expect(await res.json()).toMatchObject({
      revoked_refresh_families: 1,
      access_tokens_revoked: false,
    });
    const refreshed = await postJson(`${url}/token/refresh`, {
      refresh_token: session.refresh_token,
    });
    expect(refreshed.status).toBe(400);
  });
});
