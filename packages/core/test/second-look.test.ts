import { inspect } from "node:util";
import { createTestIssuer, signToken, type TestIssuer } from "@meishi/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  anyRole,
  authorize,
  ConfigurationError,
  createRemoteKeySource,
  createVerifier,
  DIAGNOSTIC_INTERVAL_MS,
  type DiagnosticLogger,
  isAuthError,
  type KeySource,
  type MeishiEvent,
  type VerifierOptions,
} from "../src/index.node.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());
afterEach(() => vi.useRealTimers());

function base(extra: Partial<VerifierOptions> = {}): VerifierOptions {
  return {
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    logger: false,
    ...extra,
  } as VerifierOptions;
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isAuthError(error)) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

function collectingLogger() {
  const lines: { level: "warn" | "error"; message: string; details: Record<string, unknown> }[] =
    [];
  const logger: DiagnosticLogger = {
    warn: (details, message) => lines.push({ level: "warn", message, details }),
    error: (details, message) => lines.push({ level: "error", message, details }),
  };
  return { lines, logger };
}

describe("keys are trusted no longer than keySource.maxAgeMs", () => {
  it("caps a longer Cache-Control max-age: a removed key stops passing, even on cache hits", async () => {
    const own = await createTestIssuer({ cacheControl: "max-age=86400" });
    try {
      vi.useFakeTimers({ toFake: ["Date"] });
      const verifier = createVerifier({
        jwksUri: own.jwksUri,
        issuer: own.issuer,
        audience: own.audience,
        logger: false,
        keySource: { maxAgeMs: 2_000 },
      });
      const token = await own.sign();
      await verifier.verify(token);
      const [oldKey] = own.keys;
      await own.rotate({ retireOld: true });
      own.unpublish(oldKey!.kid);
      // Steady traffic of the same, cached token: every request a cache hit.
      for (let elapsed = 0; elapsed < 3_000; elapsed += 250) {
        vi.setSystemTime(Date.now() + 250);
        await verifier.verify(token).catch(() => undefined);
      }
      expect(own.requests.jwks).toBeGreaterThan(1);
      expect((await refusal(verifier.verify(token))).reason).toBe("unknown_kid");
    } finally {
      await own.close();
    }
  });

  it("raises a shorter max-age to a 5 s floor", async () => {
    const own = await createTestIssuer({ cacheControl: "max-age=1" });
    try {
      vi.useFakeTimers({ toFake: ["Date"] });
      const verifier = createVerifier({
        jwksUri: own.jwksUri,
        issuer: own.issuer,
        audience: own.audience,
        logger: false,
        verifiedTokenCache: false,
      });
      await verifier.verify(await own.sign());
      // Before the refresh-ahead point of a 5 s age (3.75 s), nothing is fetched…
      vi.setSystemTime(Date.now() + 3_500);
      await verifier.verify(await own.sign());
      expect(own.requests.jwks).toBe(1);
      // …and past 5 s the set has expired and is fetched again.
      vi.setSystemTime(Date.now() + 1_600);
      await verifier.verify(await own.sign());
      expect(own.requests.jwks).toBe(2);
    } finally {
      await own.close();
    }
  });

  it("serves stale keys through an outage for 24 h past expiry by default, then 503", async () => {
    const own = await createTestIssuer();
    try {
      vi.useFakeTimers({ toFake: ["Date"] });
      const verifier = createVerifier({
        jwksUri: own.jwksUri,
        issuer: own.issuer,
        audience: own.audience,
        logger: false,
        verifiedTokenCache: false,
      });
      const start = Date.now();
      await verifier.verify(await own.sign({}, { expiresInSec: 200_000 }));
      own.setFault({ kind: "status", status: 500 });
      const token = await own.sign({}, { expiresInSec: 200_000 });
      // 10 min max age + 24 h stale window, less a minute: still served.
      vi.setSystemTime(start + 600_000 + 86_400_000 - 60_000);
      await expect(verifier.verify(token)).resolves.toBeDefined();
      vi.setSystemTime(start + 600_000 + 86_400_000 + 60_000);
      expect((await refusal(verifier.verify(token))).status).toBe(503);
    } finally {
      await own.close();
    }
  });
});

describe("claim paths", () => {
  const keycloakClaims = {
    realm_access: { roles: ["offline_access", "standard user"] },
    resource_access: {
      "my.client": { roles: ["orders-admin"] },
      my: { client: { roles: ["WRONG: a path through nested objects"] } },
    },
    "realm_access.roles": ["WRONG: a top-level claim spelled like the path"],
    azp: "my.client",
  };

  it("reads Keycloak realm and client roles, with dots in the client id", async () => {
    const verifier = createVerifier(
      base({
        rolesClaim: [
          ["realm_access", "roles"],
          ["resource_access", "my.client", "roles"],
        ],
      }),
    );
    const identity = await verifier.verify(await issuer.sign(keycloakClaims));
    expect(identity.roles).toEqual(["offline_access", "standard user", "orders-admin"]);
  });

  it("a dotted string is one nested path; a top-level name with dots never overrides it", async () => {
    const verifier = createVerifier(base({ rolesClaim: "realm_access.roles" }));
    const identity = await verifier.verify(await issuer.sign(keycloakClaims));
    expect(identity.roles).toEqual(["offline_access", "standard user"]);
  });

  it("an array of strings is one path of segments, never several paths", async () => {
    const verifier = createVerifier(
      base({ rolesClaim: ["resource_access", "my.client", "roles"] }),
    );
    const identity = await verifier.verify(await issuer.sign(keycloakClaims));
    expect(identity.roles).toEqual(["orders-admin"]);
  });

  it("refuses ambiguous or unusable paths at start-up", () => {
    for (const rolesClaim of [
      [["realm_access", "roles"], "groups"],
      "realm_access..roles",
      "https://example.com/roles",
      [],
      [""],
    ]) {
      expect(() => createVerifier(base({ rolesClaim } as never))).toThrow(ConfigurationError);
    }
  });
});

describe("a polluted Object.prototype grants nothing", () => {
  const polluted = [
    "role",
    "roles",
    "scope",
    "scp",
    "iss",
    "aud",
    "exp",
    "authorization",
    "cookie",
  ];
  afterEach(() => {
    for (const name of polluted) delete (Object.prototype as Record<string, unknown>)[name];
  });

  it("supplies no role, scope, required claim or credential", async () => {
    const verifier = createVerifier(base({ rolesClaim: [["role"], ["roles"]], cookieName: "at" }));
    const { payload } = { payload: { sub: "u1" } };
    const token = await issuer.sign(payload);
    const forged = await signToken(issuer.keys[0]!, {
      sub: "u2",
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    const proto = Object.prototype as Record<string, unknown>;
    proto.role = "admin";
    proto.roles = ["admin"];
    proto.scope = "orders:admin";
    proto.scp = ["orders:admin"];
    proto.iss = issuer.issuer;
    proto.aud = issuer.audience;
    proto.authorization = `Bearer ${token}`;
    proto.cookie = `at=${token}`;
    const identity = await verifier.verify(token);
    expect(identity.roles).toEqual([]);
    expect(identity.scopes).toEqual([]);
    expect(() => authorize(identity, [anyRole("admin")])).toThrow();
    // A token with no iss or aud of its own is refused even though the prototype has them.
    expect((await refusal(verifier.verify(forged))).reason).toBe("claim_missing");
    // Headers: nothing read through the prototype.
    expect((await refusal(verifier.authenticate({ headers: {} }))).code).toBe("missing_token");
  });
});

describe("identities are immutable", () => {
  it("freezes claims, header, roles and scopes, and expiresAt cannot be changed", async () => {
    const verifier = createVerifier(base());
    const token = await issuer.sign({ role: ["a"], scope: "s", nested: { deep: [1] } });
    const identity = await verifier.verify(token);
    const expires = identity.expiresAt.getTime();
    identity.expiresAt.setTime(0);
    Date.prototype.setFullYear.call(identity.expiresAt, 1970);
    expect(identity.expiresAt.getTime()).toBe(expires);
    expect((await verifier.verify(token)).expiresAt.getTime()).toBe(expires);
    for (const part of [
      identity,
      identity.claims,
      identity.header,
      identity.roles,
      identity.scopes,
    ]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(Object.isFrozen((identity.claims as { nested: { deep: number[] } }).nested.deep)).toBe(
      true,
    );
  });
});

describe("kid values are bounded before any lookup, event or cache", () => {
  it.each([
    ["11 KB long", "k".repeat(11_000)],
    ["with CR/LF", "a\r\nX-Injected: 1"],
    ["with ANSI escapes", "\u001b[31mred"],
    ["257 characters", "k".repeat(257)],
  ])("refuses a kid %s with 401 kid_invalid and no fetch", async (_name, kid) => {
    const own = await createTestIssuer();
    try {
      const events: MeishiEvent[] = [];
      const verifier = createVerifier({
        jwksUri: own.jwksUri,
        issuer: own.issuer,
        audience: own.audience,
        logger: false,
        onEvent: (event) => events.push(event),
      });
      const token = await signToken(
        own.keys[0]!,
        { iss: own.issuer, aud: own.audience, exp: Math.floor(Date.now() / 1000) + 60 },
        { kid },
      );
      const error = await refusal(verifier.verify(token));
      expect(error.reason).toBe("kid_invalid");
      expect(own.requests.jwks).toBe(0);
      expect(JSON.stringify(events.map((event) => ({ ...event, error: undefined })))).not.toContain(
        kid.slice(0, 20),
      );
    } finally {
      await own.close();
    }
  });

  it("accepts a 256-character printable kid", async () => {
    const own = await createTestIssuer();
    try {
      const kid = "k".repeat(256);
      await own.addKey("ES256", { kid });
      const verifier = createVerifier({
        jwksUri: own.jwksUri,
        issuer: own.issuer,
        audience: own.audience,
        logger: false,
      });
      await expect(verifier.verify(await own.sign({}, { kid }))).resolves.toBeDefined();
    } finally {
      await own.close();
    }
  });
});

describe("the verified-token cache counts what entries hold", () => {
  it("holds fewer large tokens than small ones under the same byte bound", async () => {
    let lookups = 0;
    const counting: KeySource = {
      ...createRemoteKeySource({ jwksUri: issuer.jwksUri }),
    } as KeySource;
    const remote = createRemoteKeySource({ jwksUri: issuer.jwksUri });
    const source: KeySource = {
      getKey: (header, token) => {
        lookups++;
        return remote.getKey(header, token);
      },
      ready: () => remote.ready(),
      get version() {
        return remote.version;
      },
    };
    void counting;
    const verifier = createVerifier(
      base({ jwksUri: undefined, keys: source, verifiedTokenCache: { maxBytes: 1024 * 1024 } }),
    );
    const manyClaims = Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`c${i}`, [i, { v: i }]]),
    );
    const tokens = await Promise.all(Array.from({ length: 40 }, () => issuer.sign(manyClaims)));
    for (const token of tokens) await verifier.verify(token);
    lookups = 0;
    for (const token of tokens) await verifier.verify(token);
    // ~12 KB of token text each, but each entry holds far more as parsed objects: 40 of them
    // exceed 1 MiB, so some must have been evicted and verified again.
    expect(lookups).toBeGreaterThan(0);
    const small = await Promise.all(Array.from({ length: 40 }, () => issuer.sign()));
    for (const token of small) await verifier.verify(token);
    lookups = 0;
    for (const token of small) await verifier.verify(token);
    expect(lookups).toBe(0);
  });

  it("defaults to 10,000 entries", async () => {
    const { VERIFIED_TOKEN_CACHE_DEFAULTS } = await import("../src/index.js");
    expect(VERIFIED_TOKEN_CACHE_DEFAULTS).toEqual({ max: 10_000, maxBytes: 64 * 1024 * 1024 });
  });
});

describe("transport", () => {
  it("refuses *.localhost and plain-http discovery issuers off loopback at start-up", () => {
    expect(() => createVerifier(base({ jwksUri: "http://evil.localhost/jwks.json" }))).toThrow(
      ConfigurationError,
    );
    expect(() =>
      createVerifier({ issuer: "http://auth.example.com", audience: "api", logger: false }),
    ).toThrow(/https/);
    expect(() =>
      createVerifier({
        issuer: "http://auth.example.com",
        audience: "api",
        allowInsecureJwksUri: true,
        logger: false,
      }),
    ).not.toThrow();
  });
});

describe("cookies", () => {
  it("refuses two token cookies, and ignores a junk cookie beside a valid header", async () => {
    const verifier = createVerifier(base({ cookieName: "at" }));
    const token = await issuer.sign();
    const two = await refusal(
      verifier.authenticate({ headers: { cookie: `at=${token}; other=1; at=${token}` } }),
    );
    expect([two.status, two.reason]).toEqual([400, "multiple_credentials"]);
    const identity = await verifier.authenticate({
      headers: { authorization: `Bearer ${token}`, cookie: "at=%%%junk%%%" },
    });
    expect(identity.sub).toBeDefined();
  });
});

describe("tokens without kid", () => {
  it("tries the keys that fit, up to three, and no more", async () => {
    const own = await createTestIssuer({ algorithms: ["ES256"] });
    try {
      for (let i = 0; i < 3; i++) await own.addKey("ES256", { kid: `extra-${i}` });
      const keys = own.keys;
      const verifier = createVerifier({
        jwksUri: own.jwksUri,
        issuer: own.issuer,
        audience: own.audience,
        logger: false,
      });
      const claims = {
        iss: own.issuer,
        aud: own.audience,
        exp: Math.floor(Date.now() / 1000) + 60,
      };
      const { header: _ignored, ...rest } = { header: undefined };
      void rest;
      const byKey = async (index: number) => {
        const key = keys[index]!;
        return signToken({ ...key, kid: undefined as unknown as string }, claims);
      };
      await expect(verifier.verify(await byKey(1))).resolves.toBeDefined();
      await expect(verifier.verify(await byKey(2))).resolves.toBeDefined();
      expect((await refusal(verifier.verify(await byKey(3)))).reason).toBe("signature_invalid");
    } finally {
      await own.close();
    }
  });
});

describe("revocation deadline", () => {
  it("answers 503 when isRevoked never answers, after 1000 ms by default", async () => {
    let calls = 0;
    // The first answer lets the token into the verified-token cache, so the second request
    // reaches the store at once, under fake timers.
    const verifier = createVerifier(
      base({ isRevoked: () => (calls++ === 0 ? false : new Promise<boolean>(() => {})) }),
    );
    const token = await issuer.sign();
    await verifier.verify(token);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let settled: unknown;
    const pending = verifier.verify(token).then(
      () => "passed",
      (error: unknown) => error,
    );
    pending.then((value) => {
      settled = value;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2);
    const error = await pending;
    expect(isAuthError(error) && [error.status, error.reason]).toEqual([
      503,
      "revocation_unavailable",
    ]);
  });

  it("consults a revocation store with identity fields only, on cache hits too", async () => {
    const queries: unknown[] = [];
    const verifier = createVerifier(
      base({
        revocation: {
          isRevoked: (query) => {
            queries.push(query);
            return query.jti === "revoked";
          },
        },
      }),
    );
    const token = await issuer.sign({ jti: "ok", sid: "s1" });
    await verifier.verify(token);
    await verifier.verify(token);
    expect(queries).toHaveLength(2);
    expect(JSON.stringify(queries)).not.toContain(token.split(".")[2]!);
    expect(queries[0]).toMatchObject({ issuer: issuer.issuer, jti: "ok", sid: "s1" });
    const events: MeishiEvent[] = [];
    const withEvents = createVerifier(
      base({
        onEvent: (event) => events.push(event),
        revocation: { isRevoked: (query) => query.jti === "revoked" },
      }),
    );
    const error = await refusal(withEvents.verify(await issuer.sign({ jti: "revoked" })));
    expect([error.status, error.reason, error.description]).toEqual([
      401,
      "token_revoked",
      "The access token was revoked",
    ]);
    expect(events.some((event) => event.type === "token_revoked" && event.jti === "revoked")).toBe(
      true,
    );
  });

  it("refuses a revocation option that is not a function or store", () => {
    expect(() => createVerifier(base({ isRevoked: true as never }))).toThrow(
      /isRevoked must be a function/,
    );
    expect(() => createVerifier(base({ revocation: {} as never }))).toThrow(
      /revocation must be a store/,
    );
  });
});

describe("claims are personal data", () => {
  it("keeps the payload out of refusals and events, with the check explained instead", async () => {
    const events: MeishiEvent[] = [];
    const verifier = createVerifier(
      base({ audience: "https://api", onEvent: (event) => events.push(event) }),
    );
    const token = await issuer.sign({
      aud: "api://x",
      email: "omochi@example.com",
      name: "Omochi",
    });
    const error = await refusal(verifier.verify(token));
    const printed =
      inspect(error, { depth: 10, showHidden: true }) + inspect(events, { depth: 10 });
    expect(printed).not.toContain("omochi@example.com");
    expect(printed).not.toContain("Omochi");
    expect(error.details).toMatchObject({
      check: "aud",
      expected: "https://api",
      actual: "api://x",
    });
    expect(error.details?.message).toBe('aud "api://x" ≠ expected "https://api"');
    expect(error.description).toBe("The access token is invalid");
  });
});

describe("saying why a token was refused", () => {
  it("logs the check with expected and actual values, rate-limited per reason", async () => {
    const { lines, logger } = collectingLogger();
    vi.useFakeTimers({ toFake: ["Date"] });
    const verifier = createVerifier(base({ issuer: `${issuer.issuer}/`, logger }));
    const token = await issuer.sign();
    await refusal(verifier.verify(token));
    await refusal(verifier.verify(token));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe("warn");
    expect(lines[0]!.message).toContain(`iss "${issuer.issuer}" ≠ expected "${issuer.issuer}/"`);
    expect(lines[0]!.message).toContain("trailing slash");
    vi.setSystemTime(Date.now() + DIAGNOSTIC_INTERVAL_MS - 1_000);
    await refusal(verifier.verify(token));
    expect(lines).toHaveLength(1);
    vi.setSystemTime(Date.now() + 2_000);
    await refusal(verifier.verify(token));
    expect(lines).toHaveLength(2);
    expect(lines[1]!.message).toContain("2 more like this");
    expect(DIAGNOSTIC_INTERVAL_MS).toBe(60_000);
  });

  it("names where roles were read from and where they are", async () => {
    const { lines, logger } = collectingLogger();
    const verifier = createVerifier(base({ logger }));
    const identity = await verifier.verify(await issuer.sign({ roles: ["admin"] }));
    expect(() => verifier.authorize(identity, [anyRole("admin")])).toThrow();
    expect(lines[0]!.message).toContain('roles read from "role": none; the token has "roles"');
  });

  it("logs a key outage at error level with the URL, and nothing with logger: false", async () => {
    const own = await createTestIssuer();
    try {
      own.setFault({ kind: "status", status: 500 });
      const { lines, logger } = collectingLogger();
      const verifier = createVerifier({
        jwksUri: own.jwksUri,
        issuer: own.issuer,
        audience: own.audience,
        logger,
      });
      await refusal(verifier.verify(await own.sign()));
      expect(
        lines.some((line) => line.level === "error" && line.message.includes(own.jwksUri)),
      ).toBe(true);
      const silent = vi.spyOn(console, "error").mockImplementation(() => {});
      const quiet = createVerifier({
        jwksUri: own.jwksUri,
        issuer: own.issuer,
        audience: own.audience,
        logger: false,
      });
      await refusal(quiet.verify(await own.sign()));
      expect(silent).not.toHaveBeenCalled();
      silent.mockRestore();
    } finally {
      await own.close();
    }
  });

  it("uses the per-request logger when one is given (Fastify's request.log)", async () => {
    const { lines, logger } = collectingLogger();
    const verifier = createVerifier(base());
    await refusal(
      verifier.authenticate({ headers: { authorization: "Bearer a.b.c" } }, { log: logger }),
    );
    expect(lines).toHaveLength(1);
  });
});

describe("configuration errors a person understands", () => {
  it.each([
    ["jwksURI", "jwksUri"],
    ["rolesClaims", "rolesClaim"],
    ["audiance", "audience"],
  ])("refuses %s with a did-you-mean %s", (wrong, right) => {
    const options = { ...base(), [wrong]: "x" } as Record<string, unknown>;
    if (wrong === "audiance") delete options.audience;
    expect(() => createVerifier(options as never)).toThrow(
      wrong === "audiance"
        ? /audience is required|did you mean audience/
        : new RegExp(`did you mean ${right}`),
    );
  });

  it("names the user's call and refuses a missing argument", () => {
    expect(() => createVerifier(undefined as never)).toThrow(/^createVerifier\(\): needs options/);
    expect(() => createVerifier({ ...base(), keySource: { maxAge: 1 } } as never)).toThrow(
      /keySource.maxAge is not an option; did you mean maxAgeMs/,
    );
  });
});

describe("the key source is public", () => {
  it("exports a snapshot that seeds a cold start with no fetch", async () => {
    const own = await createTestIssuer();
    try {
      const warm = createRemoteKeySource({ jwksUri: own.jwksUri });
      await warm.ready();
      const snapshot = JSON.parse(JSON.stringify(warm.snapshot()));
      expect(warm.status()).toMatchObject({ uri: own.jwksUri, keyCount: 1, stale: false });
      own.resetRequestCounts();
      const cold = createRemoteKeySource({ jwksUri: own.jwksUri, snapshot });
      const verifier = createVerifier({
        keys: cold,
        issuer: own.issuer,
        audience: own.audience,
        logger: false,
      });
      await expect(verifier.verify(await own.sign())).resolves.toBeDefined();
      expect(own.requests.jwks).toBe(0);
      // A snapshot of another URL is ignored: the source fetches its own.
      const other = createRemoteKeySource({ jwksUri: `${own.url}/other.json`, snapshot });
      await other.ready().catch(() => undefined);
      expect(own.requests.total).toBeGreaterThan(0);
    } finally {
      await own.close();
    }
  });
});

describe("success events", () => {
  it("reports each verification, cached or not, only to a configured listener", async () => {
    const events: MeishiEvent[] = [];
    const verifier = createVerifier(base({ onEvent: (event) => events.push(event) }));
    const token = await issuer.sign();
    await verifier.verify(token);
    await verifier.verify(token);
    const verified = events.filter((event) => event.type === "token_verified");
    expect(verified.map((event) => event.type === "token_verified" && event.cached)).toEqual([
      false,
      true,
    ]);
  });
});

describe("the synchronous cache-hit path adapters use", () => {
  it("answers a cached token without a promise, and gives every other case the full path", async () => {
    const { createRequestAuthenticator } = await import("../src/index.node.js");
    let storeAnswer: boolean | Promise<boolean> | Error = false;
    const auth = createRequestAuthenticator<object>(
      base({
        revocation: {
          isRevoked: () => {
            if (storeAnswer instanceof Error) throw storeAnswer;
            return storeAnswer;
          },
        },
      }),
      { caller: "test" },
    );
    const token = await issuer.sign();
    const request = { headers: { authorization: `Bearer ${token}` } };
    const first = auth.authenticate({}, request);
    expect(first).toBeInstanceOf(Promise);
    await first;
    const second = auth.authenticate({}, request);
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as { sub?: string }).sub).toBeDefined();
    // A revocation answer that is not a synchronous `false` is finished on the async path.
    storeAnswer = true;
    expect((await refusal(Promise.resolve(auth.authenticate({}, request)))).reason).toBe(
      "token_revoked",
    );
    storeAnswer = Promise.resolve(true);
    expect((await refusal(Promise.resolve(auth.authenticate({}, request)))).reason).toBe(
      "token_revoked",
    );
    storeAnswer = new Error("store down");
    expect((await refusal(Promise.resolve(auth.authenticate({}, request)))).status).toBe(503);
    storeAnswer = false;
    expect(auth.authenticate({}, request)).not.toBeInstanceOf(Promise);
    // No token, a bad header: the promise path and its refusals.
    expect((await refusal(Promise.resolve(auth.authenticate({}, { headers: {} })))).code).toBe(
      "missing_token",
    );
    expect(
      (
        await refusal(
          Promise.resolve(auth.authenticate({}, { headers: { authorization: "Bearer a b" } })),
        )
      ).status,
    ).toBe(400);
  });
});

describe("claim values", () => {
  it("refuses with 401 claim_invalid when an own claim has another value, naming only the expectation", async () => {
    const verifier = createVerifier(
      base({ claims: { token_use: "access", tier: ["gold", "silver"] } }),
    );
    await expect(
      verifier.verify(await issuer.sign({ token_use: "access", tier: "gold" })),
    ).resolves.toBeDefined();
    for (const claims of [
      { token_use: "id", tier: "gold" },
      { token_use: "access" },
      { token_use: ["access"], tier: "gold" },
    ]) {
      const error = await refusal(verifier.verify(await issuer.sign(claims)));
      expect([error.status, error.reason]).toEqual([401, "claim_invalid"]);
      expect(JSON.stringify(error.details)).not.toContain('"id"');
    }
    expect(() => createVerifier(base({ claims: { a: [] } }))).toThrow(ConfigurationError);
  });
});
