import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ConfigurationError,
  createMemoryRevocationList,
  createVerifier,
  InvalidTokenError,
  type MemoryRevocationList,
  type RevocationQuery,
} from "../src/index.js";

const ISS = "https://auth.example.com";
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const T0_SEC = T0 / 1000;

function query(fields: Partial<RevocationQuery> = {}): RevocationQuery {
  return {
    issuer: ISS,
    jti: "jti-1",
    sub: "user-1",
    sid: undefined,
    issuedAt: T0_SEC - 10,
    expiresAt: T0_SEC + 300,
    ...fields,
  };
}

function atTime(ms: number): void {
  vi.setSystemTime(ms);
}

describe("createMemoryRevocationList", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function fakeClock(): void {
    vi.useFakeTimers({ toFake: ["Date"] });
    atTime(T0);
  }

  it("refuses one token by (iss, jti) and nothing else", async () => {
    fakeClock();
    const list = createMemoryRevocationList();
    expect(list.isRevoked(query())).toBe(false);
    await list.revokeToken({ issuer: ISS, jti: "jti-1", expiresAt: T0_SEC + 300 });
    expect(list.isRevoked(query())).toBe(true);
    expect(list.isRevoked(query({ jti: "jti-2" }))).toBe(false);
    expect(list.isRevoked(query({ issuer: "https://other.example.com" }))).toBe(false);
    expect(list.isRevoked(query({ jti: undefined }))).toBe(false);
  });

  it("keeps issuer and jti apart even when their concatenations match", async () => {
    fakeClock();
    const list = createMemoryRevocationList();
    await list.revokeToken({ issuer: "ab", jti: "c", expiresAt: T0_SEC + 300 });
    expect(list.isRevoked(query({ issuer: "a", jti: "bc" }))).toBe(false);
    expect(list.isRevoked(query({ issuer: "ab", jti: "c" }))).toBe(true);
  });

  it("forgets a token at its exp plus the default clock tolerance of 5 s", async () => {
    fakeClock();
    const list = createMemoryRevocationList();
    await list.revokeToken({ issuer: ISS, jti: "jti-1", expiresAt: T0_SEC + 60 });
    atTime(T0 + 60_000 + 4_999);
    expect(list.isRevoked(query())).toBe(true);
    atTime(T0 + 60_000 + 5_000);
    expect(list.isRevoked(query())).toBe(false);
    atTime(T0 + 60_000 + 6_000);
    expect(list.size().tokens).toBe(0);
  });

  it("follows a configured clock tolerance", async () => {
    fakeClock();
    const list = createMemoryRevocationList({ clockToleranceSec: 0 });
    await list.revokeToken({ issuer: ISS, jti: "jti-1", expiresAt: T0_SEC + 60 });
    atTime(T0 + 59_999);
    expect(list.isRevoked(query())).toBe(true);
    atTime(T0 + 60_000);
    expect(list.isRevoked(query())).toBe(false);
  });

  it("does not store a token that has already expired", async () => {
    fakeClock();
    const list = createMemoryRevocationList();
    await list.revokeToken({ issuer: ISS, jti: "old", expiresAt: T0_SEC - 60 });
    expect(list.size().tokens).toBe(0);
  });

  it("keeps the later exp when one token is revoked twice", async () => {
    fakeClock();
    const list = createMemoryRevocationList({ clockToleranceSec: 0 });
    await list.revokeToken({ issuer: ISS, jti: "jti-1", expiresAt: T0_SEC + 600 });
    await list.revokeToken({ issuer: ISS, jti: "jti-1", expiresAt: T0_SEC + 60 });
    atTime(T0 + 120_000);
    expect(list.isRevoked(query())).toBe(true);
  });

  it("refuses a subject's tokens issued before the cut-off, and one with no iat", async () => {
    fakeClock();
    const list = createMemoryRevocationList();
    await list.revokeSubject({ issuer: ISS, sub: "user-1" });
    expect(list.isRevoked(query({ jti: undefined, issuedAt: T0_SEC - 1 }))).toBe(true);
    expect(list.isRevoked(query({ jti: undefined, issuedAt: undefined }))).toBe(true);
    expect(list.isRevoked(query({ jti: undefined, issuedAt: T0_SEC + 1 }))).toBe(false);
    expect(list.isRevoked(query({ sub: "user-2" }))).toBe(false);
    expect(list.isRevoked(query({ sub: undefined }))).toBe(false);
  });

  it("moves a subject cut-off forward only", async () => {
    fakeClock();
    const list = createMemoryRevocationList();
    await list.revokeSubject({ issuer: ISS, sub: "user-1", issuedBefore: T0_SEC });
    await list.revokeSubject({ issuer: ISS, sub: "user-1", issuedBefore: T0_SEC - 100 });
    expect(list.isRevoked(query({ issuedAt: T0_SEC - 50 }))).toBe(true);
  });

  it("forgets a subject cut-off after the default max token lifetime of 1 day", async () => {
    fakeClock();
    const list = createMemoryRevocationList({ clockToleranceSec: 0 });
    await list.revokeSubject({ issuer: ISS, sub: "user-1" });
    atTime(T0 + 86_400_000 - 1);
    expect(list.isRevoked(query({ issuedAt: undefined }))).toBe(true);
    atTime(T0 + 86_400_000);
    expect(list.isRevoked(query({ issuedAt: undefined }))).toBe(false);
    atTime(T0 + 86_400_000 + 1);
    expect(list.size().subjects).toBe(0);
  });

  it("refuses every token of an issuer issued before its cut-off", async () => {
    fakeClock();
    const list = createMemoryRevocationList({ maxTokenLifetimeSec: 3600, clockToleranceSec: 0 });
    await list.revokeIssuer({ issuer: ISS, issuedBefore: T0_SEC - 5 });
    expect(list.isRevoked(query({ sub: "anyone", jti: "x", issuedAt: T0_SEC - 6 }))).toBe(true);
    expect(list.isRevoked(query({ issuedAt: undefined }))).toBe(true);
    expect(list.isRevoked(query({ issuedAt: T0_SEC - 5 }))).toBe(false);
    expect(list.isRevoked(query({ issuer: "https://b.example.com", issuedAt: 0 }))).toBe(false);
    atTime(T0 - 5_000 + 3_600_000);
    expect(list.isRevoked(query({ issuedAt: undefined }))).toBe(false);
    expect(list.size().issuers).toBe(0);
  });

  it("refuses every token carrying a revoked session id until the session's end", async () => {
    fakeClock();
    const list = createMemoryRevocationList({ clockToleranceSec: 0 });
    await list.revokeSession({ issuer: ISS, sid: "s-1", expiresAt: T0_SEC + 60 });
    expect(list.isRevoked(query({ jti: "a", sid: "s-1" }))).toBe(true);
    expect(list.isRevoked(query({ jti: "b", sid: "s-1" }))).toBe(true);
    expect(list.isRevoked(query({ sid: "s-2" }))).toBe(false);
    atTime(T0 + 60_000);
    expect(list.isRevoked(query({ sid: "s-1" }))).toBe(false);
  });

  it("holds 100,000 live entries by default and refuses to evict one for the next", async () => {
    const list = createMemoryRevocationList();
    const expiresAt = Date.now() / 1000 + 3600;
    for (let i = 0; i < 100_000; i += 1) {
      await list.revokeToken({ issuer: ISS, jti: `j${i}`, expiresAt });
    }
    expect(list.size().tokens).toBe(100_000);
    const full = await list.revokeToken({ issuer: ISS, jti: "one-more", expiresAt }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(full).toBeInstanceOf(RangeError);
    expect((full as { code?: string }).code).toBe("ERR_MEISHI_REVOCATION_LIST_FULL");
    expect(list.isRevoked(query({ jti: "j0" }))).toBe(true);
    // Re-revoking one it already holds is not a new entry.
    await list.revokeToken({ issuer: ISS, jti: "j1", expiresAt: expiresAt + 1 });
  });

  it("makes room by dropping expired entries, never live ones", async () => {
    fakeClock();
    const list = createMemoryRevocationList({ max: 2, clockToleranceSec: 0 });
    await list.revokeToken({ issuer: ISS, jti: "short", expiresAt: T0_SEC + 1 });
    await list.revokeSession({ issuer: ISS, sid: "long", expiresAt: T0_SEC + 600 });
    await expect(list.revokeSubject({ issuer: ISS, sub: "user-9" })).rejects.toBeInstanceOf(
      RangeError,
    );
    atTime(T0 + 2_000);
    await list.revokeSubject({ issuer: ISS, sub: "user-9" });
    expect(list.size()).toEqual({ tokens: 0, subjects: 1, issuers: 0, sessions: 1 });
  });

  it("validates its options and its entries", async () => {
    expect(() => createMemoryRevocationList({ max: 0 })).toThrow(ConfigurationError);
    expect(() => createMemoryRevocationList({ clockToleranceSec: -1 })).toThrow(ConfigurationError);
    expect(() => createMemoryRevocationList({ maxTokenLifetimeSec: 1.5 })).toThrow(
      ConfigurationError,
    );
    const list = createMemoryRevocationList();
    await expect(list.revokeToken({ issuer: ISS, jti: "", expiresAt: 1 })).rejects.toThrow(
      TypeError,
    );
    await expect(
      list.revokeToken({ issuer: ISS, jti: "a", expiresAt: Number.NaN }),
    ).rejects.toThrow(TypeError);
  });
});

describe("a memory revocation list behind a verifier", () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ algorithms: ["ES256"] });
  });
  afterAll(() => issuer.close());

  async function verifierWith(list: MemoryRevocationList) {
    return createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      revocation: list,
    });
  }

  it("refuses a revoked token even when it is answered from the verified-token cache", async () => {
    const list = createMemoryRevocationList();
    const verifier = await verifierWith(list);
    const token = await issuer.sign({ jti: "cached-1" });
    const identity = await verifier.verify(token);
    await list.revokeToken({
      issuer: issuer.issuer,
      jti: "cached-1",
      expiresAt: identity.claims.exp ?? 0,
    });
    await expect(verifier.verify(token)).rejects.toMatchObject({
      reason: "token_revoked",
      status: 401,
    });
  });

  it("refuses the high-S twin of a revoked ES256 token", async () => {
    const list = createMemoryRevocationList();
    const verifier = await verifierWith(list);
    const token = await issuer.sign({ jti: "twin-1" });
    const twin = highSTwin(token);
    expect(twin).not.toBe(token);
    await expect(verifier.verify(twin)).resolves.toMatchObject({ sub: "user-123" });
    await list.revokeToken({ issuer: issuer.issuer, jti: "twin-1", expiresAt: 2 ** 31 });
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(verifier.verify(twin)).rejects.toMatchObject({ reason: "token_revoked" });
  });
});

// P-256 group order: s and n − s are both valid ECDSA signatures of the same message.
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function highSTwin(token: string): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const bytes = Buffer.from(signature, "base64url");
  const s = BigInt(`0x${bytes.subarray(32).toString("hex")}`);
  const twin = Buffer.from((P256_N - s).toString(16).padStart(64, "0"), "hex");
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), twin]).toString("base64url")}`;
}
