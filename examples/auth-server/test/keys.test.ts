import { createVerifier } from "@meishi/express";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  jwtVerify,
} from "jose";
import { describe, expect, it } from "vitest";
import { createAuthServer, type KeyInfo, type RotationResult } from "../src/index.js";
import {
  admin,
  fakeClock,
  login,
  omochi,
  postJson,
  sharedServer,
  start,
  storedKids,
} from "./helpers.js";

async function jwks(url: string): Promise<JSONWebKeySet> {
  return (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
}

async function kids(url: string): Promise<string[]> {
  return (await jwks(url)).keys.map((key) => key.kid!);
}

function kidOf(token: string): string {
  return decodeProtectedHeader(token).kid!;
}

describe("GET /.well-known/jwks.json", () => {
  const shared = sharedServer();

  it("publishes only public RS256 signing keys, cacheable for a minute", async () => {
    const { url } = shared();
    const res = await fetch(`${url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    const { keys } = (await res.json()) as JSONWebKeySet;
    expect(keys).toHaveLength(2); // current + next
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
      expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
      expect(Buffer.from(key.n!, "base64url").length).toBe(256); // 2048-bit modulus
    }
    expect(new Set(keys.map((key) => key.kid)).size).toBe(2);
  });

  it("serves a discovery document that meishi can follow from the issuer alone", async () => {
    const { url } = shared();
    const res = await fetch(`${url}/.well-known/openid-configuration`);
    expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    expect(await res.json()).toMatchObject({
      issuer: url,
      jwks_uri: `${url}/.well-known/jwks.json`,
      token_endpoint: `${url}/token/refresh`,
      id_token_signing_alg_values_supported: ["RS256"],
    });
    const verifier = createVerifier({ issuer: url, audience: "https://api.meishi.example" });
    const tokens = await login(url, omochi.username, omochi.password);
    const identity = await verifier.verify(tokens.access_token);
    expect(identity.sub).toBe("00123");
    expect(identity.roles).toEqual(["standard user"]);
  });
});

describe("key rotation", () => {
  it("publishes the next key before it signs, and promotes it on rotation", async () => {
    const { server, url } = await start();
    const before = await kids(url);
    const signedBefore = kidOf((await login(url, omochi.username, omochi.password)).access_token);
    expect(before[0]).toBe(signedBefore); // current first
    const next = before[1]!;
    expect(next).not.toBe(signedBefore);

    const rotation = await server.rotateKeys();
    expect(rotation.current_kid).toBe(next);
    const signedAfter = kidOf((await login(url, omochi.username, omochi.password)).access_token);
    expect(signedAfter).toBe(next);
    // The new signing key was already in the JWKS a verifier cached before the rotation.
    expect(before).toContain(signedAfter);

    const after = await kids(url);
    expect(after).toEqual(rotation.published_kids);
    expect(after).toHaveLength(3); // current, a fresh next, the retiring old key
    expect(after[0]).toBe(next);
    expect(after).toContain(signedBefore);
  });

  it("keeps tokens signed before a rotation verifiable after it", async () => {
    const { server, url } = await start();
    const old = await login(url, omochi.username, omochi.password);
    await server.rotateKeys();
    await server.rotateKeys();
    const fresh = await login(url, omochi.username, omochi.password);
    expect(kidOf(fresh.access_token)).not.toBe(kidOf(old.access_token));
    const keySet = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    await expect(jwtVerify(old.access_token, keySet, { issuer: url })).resolves.toBeDefined();
    await expect(jwtVerify(fresh.access_token, keySet, { issuer: url })).resolves.toBeDefined();
  });

  it("removes a retiring key once the last token it signed has expired", async () => {
    const clock = fakeClock();
    const { server, url } = await start({
      now: clock.now,
      accessTokenTtlSec: 120,
      clockSkewSec: 30,
    });
    const old = await login(url, admin.username, admin.password);
    const oldKid = kidOf(old.access_token);
    // The worst case: the old key signed a token in the very second it retired. It stays
    // published for the token's lifetime (120 s) plus the skew verifiers allow (30 s).
    await server.rotateKeys();

    clock.advance(149);
    const stillThere = await jwks(url);
    expect(stillThere.keys.map((key) => key.kid)).toContain(oldKid);
    await expect(
      jwtVerify(old.access_token, createLocalJWKSet(stillThere), {
        currentDate: new Date(clock.now()),
        clockTolerance: 30,
      }),
    ).resolves.toBeDefined();

    clock.advance(1);
    const after = await kids(url);
    expect(after).not.toContain(oldKid);
    expect(after).toHaveLength(2);
    expect(storedKids(server)).not.toContain(oldKid); // the private part is gone too

    // The server's own meishi guard runs on the real clock, where the token has not expired:
    // it is refused only because its key is no longer published.
    const res = await fetch(`${url}/admin/keys`, {
      headers: { authorization: `Bearer ${old.access_token}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("shows the states of every key to an admin", async () => {
    const { server, url } = await start();
    await server.rotateKeys();
    const token = (await login(url, admin.username, admin.password)).access_token;
    const res = await fetch(`${url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: KeyInfo[] };
    expect(keys.map((key) => key.state)).toEqual(["current", "next", "retiring"]);
    expect(keys[2]).toMatchObject({
      retired_at: expect.any(String),
      remove_after: expect.any(String),
    });
    expect(JSON.stringify(keys)).not.toMatch(/"d"|private/);
  });
});

describe("the cap on published keys", () => {
  type Warning = { details: Record<string, unknown>; message: string };
  const collect = (warnings: Warning[]) => (details: Record<string, unknown>, message: string) =>
    void warnings.push({ details, message });

  it("never publishes more than 4 keys by default, however fast keys rotate", async () => {
    const warnings: Warning[] = [];
    const { server, url } = await start({ onWarning: collect(warnings) });
    const seen = new Set(await kids(url));
    for (let i = 1; i <= 10; i++) {
      const rotation = await server.rotateKeys();
      const published = await kids(url);
      expect(published).toEqual(rotation.published_kids);
      expect(published).toHaveLength(Math.min(2 + i, 4));
      expect(storedKids(server)).toHaveLength(published.length); // pruned from storage too
      expect(published[0]).toBe(rotation.current_kid);
      for (const kid of published) seen.add(kid);
    }
    expect(seen.size).toBe(12); // every rotation brought a fresh key
    // Rotations 3 to 10 each pushed the oldest retiring key out early, and said so.
    expect(warnings).toHaveLength(8);
    const published = new Set(await kids(url));
    for (const { details, message } of warnings) {
      expect(details).toMatchObject({ kid: expect.any(String), maxPublishedKeys: 4 });
      expect(published.has(details.kid as string)).toBe(false);
      expect(message).toContain(`signing key ${String(details.kid)} removed from the JWKS`);
    }
  });

  it("lets the cap be lowered to 3: current, next, and the key that retired last", async () => {
    const { server, url } = await start({ maxPublishedKeys: 3, onWarning: () => {} });
    const first = await kids(url);
    await server.rotateKeys();
    const second = await server.rotateKeys();
    expect(second.published_kids).toHaveLength(3);
    expect(second.published_kids).toContain(first[1]); // retired by this rotation, still there
    expect(second.published_kids).not.toContain(first[0]); // retired one rotation earlier
  });

  it("refuses, through meishi, a token whose key the cap removed early", async () => {
    const warnings: Warning[] = [];
    const { server, url } = await start({ onWarning: collect(warnings) });
    const early = await login(url, admin.username, admin.password);
    const earlyKid = kidOf(early.access_token);
    await server.rotateKeys();
    await server.rotateKeys();
    // Four keys published: the early token's key is still among them, a fresh verifier takes it.
    const verifier = createVerifier({ issuer: url, audience: "https://api.meishi.example" });
    await expect(verifier.verify(early.access_token)).resolves.toMatchObject({ sub: "00001" });
    expect(warnings).toHaveLength(0);

    await server.rotateKeys(); // a fifth would be published: the oldest retiring key goes
    expect(await kids(url)).not.toContain(earlyKid);
    expect(warnings.map(({ details }) => details.kid)).toEqual([earlyKid]);

    // The server's own /admin guard (jwtAuth from @meishi/express) first fetches the JWKS now.
    const refused = await fetch(`${url}/admin/keys`, {
      headers: { authorization: `Bearer ${early.access_token}` },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const fresh = await login(url, admin.username, admin.password);
    const accepted = await fetch(`${url}/admin/keys`, {
      headers: { authorization: `Bearer ${fresh.access_token}` },
    });
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { keys: KeyInfo[] }).keys).toHaveLength(4);
  });

  it("trims a database written under a higher cap when it starts", async () => {
    const big = await start({ maxPublishedKeys: 6 });
    for (let i = 0; i < 4; i++) await big.server.rotateKeys();
    expect(await kids(big.url)).toHaveLength(6);
    const database = big.server.databasePath;
    const before = await kids(big.url);

    const warnings: Warning[] = [];
    const small = createAuthServer({
      port: 0,
      database,
      maxPublishedKeys: 4,
      onWarning: collect(warnings),
    });
    try {
      const { url } = await small.listen();
      const after = await kids(url);
      expect(after).toHaveLength(4);
      // Current and next are kept; the two oldest retiring keys are gone, with a warning each.
      expect(after.slice(0, 2)).toEqual(before.slice(0, 2));
      expect(warnings.map(({ details }) => details.kid)).toEqual(before.slice(2, 4));
    } finally {
      await small.close();
    }
  });

  it("keeps the cap, and the rotation, when the warning logger throws", async () => {
    const { server, url } = await start({
      onWarning: () => {
        throw new Error("log pipe broken");
      },
    });
    for (let i = 0; i < 3; i++) await server.rotateKeys();
    const rotation = await server.rotateKeys();
    expect(await kids(url)).toEqual(rotation.published_kids);
    expect(rotation.published_kids).toHaveLength(4);
  });

  it.each([2, 11, 1.5])("refuses maxPublishedKeys: %s", (maxPublishedKeys) => {
    expect(() => createAuthServer({ maxPublishedKeys })).toThrow(/maxPublishedKeys/);
  });
});

describe("/admin routes are protected with meishi", () => {
  const shared = sharedServer();

  it("answers 401 with a Bearer challenge without a token", async () => {
    const { url } = shared();
    const res = await postJson(`${url}/admin/rotate-keys`, {});
    expect(res.status).toBe(401);
    // Admins may log in with DPoP, so /admin accepts both schemes (RFC 9449 §7.2).
    expect(res.headers.get("www-authenticate")).toMatch(
      /^Bearer realm="auth-server admin", DPoP realm="auth-server admin", algs="[^"]+"$/,
    );
    expect(await res.json()).toMatchObject({ error: expect.any(String) });
  });

  it("answers 401 invalid_token for a forged token", async () => {
    const { url } = shared();
    const token = (await login(url, admin.username, admin.password)).access_token;
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<
      string,
      unknown
    >;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "00002" })).toString("base64url");
    const res = await postJson(
      `${url}/admin/rotate-keys`,
      {},
      { authorization: `Bearer ${header}.${forged}.${signature}` },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("answers 403 insufficient_scope to omochi, a standard user", async () => {
    const { url } = shared();
    const token = (await login(url, omochi.username, omochi.password)).access_token;
    const res = await postJson(
      `${url}/admin/rotate-keys`,
      {},
      { authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(await res.json()).toMatchObject({ error: "insufficient_scope" });
  });

  it("lets admin rotate the keys, and admin's next token still works", async () => {
    const { url } = shared();
    const token = (await login(url, admin.username, admin.password)).access_token;
    const before = await kids(url);
    const res = await postJson(
      `${url}/admin/rotate-keys`,
      {},
      { authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(200);
    const rotation = (await res.json()) as RotationResult;
    expect(rotation.current_kid).toBe(before[1]);
    expect(rotation.published_kids).toEqual(await kids(url));

    // Once more: the new signing key reaches the server's own verifier.
    for (let i = 0; i < 1; i++) {
      const next = (await login(url, admin.username, admin.password)).access_token;
      const again = await postJson(
        `${url}/admin/rotate-keys`,
        {},
        { authorization: `Bearer ${next}` },
      );
      expect(again.status).toBe(200);
    }
    // The first admin token was signed by a key that is now retiring (one of the four
    // published keys the default cap allows); still accepted.
    const res2 = await fetch(`${url}/admin/keys`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res2.status).toBe(200);
  });
});
