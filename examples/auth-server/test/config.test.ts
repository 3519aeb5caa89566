import { describe, expect, it } from "vitest";
import { configFromEnv, createAuthServer } from "../src/index.js";
import { hashPassword, verifyPassword } from "../src/passwords.js";

describe("configFromEnv", () => {
  it("reads every variable", () => {
    expect(
      configFromEnv({
        PORT: "4100",
        HOST: "0.0.0.0",
        ISSUER: "https://auth.example.com",
        AUDIENCE: "orders",
        ACCESS_TOKEN_TTL_SEC: "60",
        REFRESH_TOKEN_TTL_SEC: "3600",
        REFRESH_FAMILY_ABSOLUTE_TTL_SEC: "2592000",
        CLOCK_SKEW_SEC: "0",
        MAX_PUBLISHED_KEYS: "5",
        AUTH_DB: "/var/lib/auth.db",
      }),
    ).toEqual({
      port: 4100,
      host: "0.0.0.0",
      issuer: "https://auth.example.com",
      audience: "orders",
      accessTokenTtlSec: 60,
      refreshTokenTtlSec: 3600,
      refreshFamilyAbsoluteTtlSec: 2_592_000,
      clockSkewSec: 0,
      maxPublishedKeys: 5,
      database: "/var/lib/auth.db",
    });
  });

  it("leaves unset and empty variables to the defaults", () => {
    expect(configFromEnv({ PORT: "", ISSUER: "" })).toEqual({});
  });

  it.each([
    ["PORT", "http"],
    ["PORT", "70000"],
    ["ACCESS_TOKEN_TTL_SEC", "0"],
    ["ACCESS_TOKEN_TTL_SEC", "1.5"],
    ["REFRESH_TOKEN_TTL_SEC", "-1"],
    ["REFRESH_FAMILY_ABSOLUTE_TTL_SEC", "0"],
    ["MAX_PUBLISHED_KEYS", "2"],
    ["MAX_PUBLISHED_KEYS", "11"],
  ])("refuses %s=%s", (name, value) => {
    expect(() => configFromEnv({ [name]: value })).toThrow(new RegExp(name));
  });
});

describe("createAuthServer options", () => {
  it("defaults the issuer to the loopback URL of the port", async () => {
    const server = createAuthServer({ port: 4999 });
    try {
      expect(server.issuer).toBe("http://127.0.0.1:4999");
      expect(server.audience).toBe("https://api.meishi.example");
    } finally {
      await server.close();
    }
  });

  it.each([
    [{ issuer: "not a url" }],
    [{ issuer: "ftp://auth.example.com" }],
    [{ issuer: "https://auth.example.com/?tenant=1" }],
    [{ accessTokenTtlSec: 0 }],
    [{ refreshFamilyAbsoluteTtlSec: 0 }],
    [{ port: -1 }],
  ])("refuses %j", (config) => {
    expect(() => createAuthServer(config)).toThrow(TypeError);
  });
});

describe("password hashing", () => {
  it("salts every hash and verifies only the right password", async () => {
    const a = hashPassword("mochi-mochi");
    const b = hashPassword("mochi-mochi");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword("mochi-mochi", a)).toBe(true);
    expect(await verifyPassword("mochi-mochi!", a)).toBe(false);
    expect(await verifyPassword("mochi-mochi", "md5$abc")).toBe(false);
  });
});
