import Database from "better-sqlite3";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import type { AuthServer, TokenResponse } from "../src/index.js";
import { fakeClock, login, omochi, postJson, sharedServer, start } from "./helpers.js";

const refresh = (url: string, refreshToken: string) =>
  postJson(`${url}/token/refresh`, { refresh_token: refreshToken });
const logout = (url: string, refreshToken: string) =>
  postJson(`${url}/logout`, { refresh_token: refreshToken });

const invalidGrant = { error: "invalid_grant", error_description: expect.any(String) };

describe("refresh-token rotation", () => {
  const shared = sharedServer();

  it("trades a refresh token for a new access token and a new refresh token", async () => {
    const { url } = shared();
    const first = await login(url, omochi.username, omochi.password);
    const res = await refresh(url, first.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const second = (await res.json()) as TokenResponse;
    expect(second).toMatchObject({ token_type: "Bearer", expires_in: 300 });
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(second.access_token, jwks, { issuer: url });
    expect(payload).toMatchObject({ sub: "00123", name: "omochi", role: "standard user" });
    // Same login, same session id; another login is another session.
    const sid = (token: string) => decodeJwt(token).sid;
    expect(payload.sid).toBe(sid(first.access_token));
    const other = await login(url, omochi.username, omochi.password);
    expect(sid(other.access_token)).not.toBe(payload.sid);
  });

  it("keeps rotating along a chain of refreshes", async () => {
    const { url } = shared();
    let current = (await login(url, omochi.username, omochi.password)).refresh_token;
    for (let i = 0; i < 3; i++) {
      const res = await refresh(url, current);
      expect(res.status).toBe(200);
      current = ((await res.json()) as TokenResponse).refresh_token;
    }
  });

  it("revokes the whole family when a rotated token is replayed (RFC 9700 §4.14.2)", async () => {
    const { url } = shared();
    const first = await login(url, omochi.username, omochi.password);
    const second = (await (await refresh(url, first.refresh_token)).json()) as TokenResponse;

    // An attacker replays the first token, which the owner has already traded.
    const replay = await refresh(url, first.refresh_token);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual(invalidGrant);

    // The newest token of that family no longer works either.
    const newest = await refresh(url, second.refresh_token);
    expect(newest.status).toBe(400);
    expect(await newest.json()).toEqual(invalidGrant);
  });

  it("leaves other families (other logins) alone when one is revoked", async () => {
    const { url } = shared();
    const phone = await login(url, omochi.username, omochi.password);
    const laptop = await login(url, omochi.username, omochi.password);
    await refresh(url, phone.refresh_token);
    await refresh(url, phone.refresh_token); // reuse: phone's family is revoked
    expect((await refresh(url, laptop.refresh_token)).status).toBe(200);
  });

  it("refuses an unknown refresh token", async () => {
    const { url } = shared();
    const res = await refresh(url, "bm90LWEtcmVhbC1yZWZyZXNoLXRva2VuLWF0LWFsbC0hIQ");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(invalidGrant);
  });

  it("refuses an access token offered as a refresh token", async () => {
    const { url } = shared();
    const tokens = await login(url, omochi.username, omochi.password);
    expect((await refresh(url, tokens.access_token)).status).toBe(400);
  });

  it("answers a missing refresh_token with 400 invalid_request", async () => {
    const { url } = shared();
    const res = await postJson(`${url}/token/refresh`, {});
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });

  it("accepts the form encoding of RFC 6749 §6 at the advertised token_endpoint", async () => {
    const { url } = shared();
    const tokens = await login(url, omochi.username, omochi.password);
    const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as {
      token_endpoint: string;
    };
    const res = await fetch(discovery.token_endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token_type: "Bearer" });
  });

  it("refuses another grant_type with unsupported_grant_type", async () => {
    const { url } = shared();
    const tokens = await login(url, omochi.username, omochi.password);
    const res = await postJson(`${url}/token/refresh`, {
      grant_type: "password",
      refresh_token: tokens.refresh_token,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "unsupported_grant_type" });
  });
});

describe("POST /logout", () => {
  const shared = sharedServer();

  it("revokes the family: 204, then the refresh token is refused", async () => {
    const { url } = shared();
    const tokens = await login(url, omochi.username, omochi.password);
    const rotated = (await (await refresh(url, tokens.refresh_token)).json()) as TokenResponse;
    const res = await logout(url, rotated.refresh_token);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect((await refresh(url, rotated.refresh_token)).status).toBe(400);
  });

  it("revokes the family from any of its tokens, even a rotated one", async () => {
    const { url } = shared();
    const tokens = await login(url, omochi.username, omochi.password);
    const rotated = (await (await refresh(url, tokens.refresh_token)).json()) as TokenResponse;
    expect((await logout(url, tokens.refresh_token)).status).toBe(204);
    expect((await refresh(url, rotated.refresh_token)).status).toBe(400);
  });

  it("answers 204 for an unknown token and 400 for a missing one", async () => {
    const { url } = shared();
    expect((await logout(url, "unknown")).status).toBe(204);
    const res = await postJson(`${url}/logout`, {});
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });

  it("cannot take back an access token already issued: it lives until exp", async () => {
    const { url } = shared();
    const tokens = await login(url, omochi.username, omochi.password);
    await logout(url, tokens.refresh_token);
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    await expect(jwtVerify(tokens.access_token, jwks)).resolves.toBeDefined();
  });
});

describe("refresh-token expiry", () => {
  it("refuses a refresh token past its lifetime", async () => {
    const clock = fakeClock();
    const { url } = await start({ now: clock.now, refreshTokenTtlSec: 600 });
    const tokens = await login(url, omochi.username, omochi.password);
    clock.advance(601);
    const res = await refresh(url, tokens.refresh_token);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "invalid_grant",
      error_description: "refresh token has expired",
    });
  });

  it("gives every rotated token a fresh lifetime", async () => {
    const clock = fakeClock();
    const { url } = await start({ now: clock.now, refreshTokenTtlSec: 600 });
    let current = (await login(url, omochi.username, omochi.password)).refresh_token;
    for (let i = 0; i < 3; i++) {
      clock.advance(500);
      const res = await refresh(url, current);
      expect(res.status).toBe(200);
      current = ((await res.json()) as TokenResponse).refresh_token;
    }
  });

  it("defaults to one day", async () => {
    const clock = fakeClock();
    const { url } = await start({ now: clock.now });
    const a = await login(url, omochi.username, omochi.password);
    const b = await login(url, omochi.username, omochi.password);
    clock.advance(86_399);
    expect((await refresh(url, a.refresh_token)).status).toBe(200);
    clock.advance(1);
    expect((await refresh(url, b.refresh_token)).status).toBe(400);
  });
});

describe("refresh-family absolute lifetime", () => {
  const maxLifetime = {
    error: "invalid_grant",
    error_description: "refresh token has expired: the session has reached its maximum lifetime",
  };

  function familyState(server: AuthServer): { revoked_reason: string | null }[] {
    const db = new Database(server.databasePath, { readonly: true });
    try {
      return db.prepare("SELECT revoked_reason FROM refresh_families").all() as {
        revoked_reason: string | null;
      }[];
    } finally {
      db.close();
    }
  }

  it("is not extended by rotation: past it the refresh is refused and the family revoked", async () => {
    const clock = fakeClock();
    const { server, url } = await start({
      now: clock.now,
      refreshTokenTtlSec: 600,
      refreshFamilyAbsoluteTtlSec: 1800,
    });
    let current = (await login(url, omochi.username, omochi.password)).refresh_token;
    // Refreshing well inside the 600 s idle timeout, up to the last second of the family.
    for (const step of [500, 500, 500, 299]) {
      clock.advance(step);
      const res = await refresh(url, current);
      expect(res.status).toBe(200);
      current = ((await res.json()) as TokenResponse).refresh_token;
    }
    clock.advance(1); // 1800 s after the login
    const res = await refresh(url, current);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(maxLifetime);
    expect(familyState(server)).toEqual([{ revoked_reason: "absolute lifetime" }]);

    // A new login is a new family with its own lifetime.
    const again = await login(url, omochi.username, omochi.password);
    expect((await refresh(url, again.refresh_token)).status).toBe(200);
  });

  it("defaults to 24 hours from the login, whatever the refreshing", async () => {
    const clock = fakeClock();
    const { url } = await start({ now: clock.now });
    let current = (await login(url, omochi.username, omochi.password)).refresh_token;
    for (const step of [43_200, 43_199]) {
      clock.advance(step);
      const res = await refresh(url, current);
      expect(res.status).toBe(200);
      current = ((await res.json()) as TokenResponse).refresh_token;
    }
    // The last token was issued one second ago and its own (idle) lifetime is a day, but the
    // family is now 24 hours old.
    clock.advance(1);
    const res = await refresh(url, current);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(maxLifetime);
  });
});
