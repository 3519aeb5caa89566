import {
  anyRole,
  createVerifier,
  extractToken,
  findToken,
  type Identity,
  type TokenRequest,
  type Verifier,
} from "@meishi/core";
import { createTestIssuer, type TestIssuer, type TestKey } from "@meishi/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HarnessApp } from "../conformance/harness.js";
import {
  b64url,
  expectAuthError,
  expectNoStackTrace,
  expectWellFormedRefusal,
  guardProcess,
  keyFor,
  signRaw,
  socketHarnesses,
  validClaims,
} from "./support.js";

guardProcess();

// Random by default; MEISHI_FUZZ_SEED=<n> replays a run (fast-check prints the seed and the
// shrunk counterexample of any failure). MEISHI_FUZZ_SCALE=<k> multiplies every numRuns for a
// longer hunt; the defaults keep the whole security suite well under a minute.
const SEED = process.env.MEISHI_FUZZ_SEED;
const SCALE = Number(process.env.MEISHI_FUZZ_SCALE ?? 1);
function runs(numRuns: number): fc.Parameters<unknown> {
  const scaled = Math.max(1, Math.round(numRuns * SCALE));
  return SEED === undefined ? { numRuns: scaled } : { numRuns: scaled, seed: Number(SEED) };
}

// --- arbitraries -------------------------------------------------------------------------------

const charsOf = (text: string) => fc.constantFrom(...text.split(""));
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** What Node's HTTP client and parser accept in a header value: HTAB, SP, VCHAR, obs-text. */
const headerChar = fc
  .oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
    { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  )
  .map((code) => String.fromCharCode(code));
const headerText = fc.string({ unit: headerChar, maxLength: 200 });

/** One base64url-ish segment: alphabet soup, encoded bytes, or encoded JSON. */
const segment = fc.oneof(
  fc.string({ unit: charsOf(B64URL), maxLength: 60 }),
  fc.string({ unit: charsOf(`${B64URL}+/=.~`), maxLength: 20 }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => b64url(bytes)),
  fc.json({ maxDepth: 3 }).map((json) => b64url(json)),
);

/** Mostly three segments; sometimes one to six. */
const tokenShaped = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(segment, segment, segment).map((parts) => parts.join(".")) },
  {
    weight: 1,
    arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(".")),
  },
);

const scheme = fc.constantFrom("Bearer", "bearer", "BEARER", "bEaReR", "Basic", "DPoP", "");
const separator = fc.constantFrom(" ", "  ", "\t", "", ",", ", ");
const credential = fc.oneof(tokenShaped, headerText);

/** Any Authorization value Node lets through, biased towards near-misses of a bearer token. */
const authorizationValue = fc.oneof(
  headerText,
  fc.tuple(scheme, separator, credential).map(([s, sep, c]) => `${s}${sep}${c}`),
  fc
    .tuple(scheme, credential, separator, scheme, credential)
    .map(([s1, c1, sep, s2, c2]) => `${s1} ${c1}${sep}${s2} ${c2}`),
);

const jsonValue = fc.jsonValue({ maxDepth: 3 });

/** The ingredients of a validly signed token with odd contents; signed inside the property. */
interface WeirdTokenSpec {
  keyIndex: number;
  header: { kind: "object"; extra: Record<string, unknown> } | { kind: "raw"; bytes: Uint8Array };
  payload:
    | { kind: "claims"; overrides: Record<string, unknown> }
    | { kind: "raw"; bytes: Uint8Array };
}

function weirdTokenSpec(issuer: TestIssuer): fc.Arbitrary<WeirdTokenSpec> {
  const now = Math.floor(Date.now() / 1000);
  const plausible = fc.oneof(
    jsonValue,
    fc.constantFrom<unknown>(
      issuer.issuer,
      issuer.audience,
      [issuer.audience],
      "standard user",
      ["standard user", "admin"],
      "orders:read",
      now,
      now + 300,
      now - 300,
      now + 1e9,
      1e21,
      -1,
      "",
    ),
  );
  const headerName = fc.constantFrom(
    "alg",
    "kid",
    "typ",
    "cty",
    "crit",
    "b64",
    "jku",
    "x5u",
    "x5c",
    "jwk",
    "zip",
    "enc",
    "__proto__",
    "x-custom",
  );
  const claimName = fc.constantFrom(
    "iss",
    "aud",
    "sub",
    "exp",
    "nbf",
    "iat",
    "jti",
    "role",
    "roles",
    "scope",
    "scp",
    "__proto__",
    "constructor",
    "toString",
  );
  const toBytes = (json: string) => new TextEncoder().encode(json);
  const rawJson = fc.oneof(fc.json({ maxDepth: 3 }).map(toBytes), fc.uint8Array({ maxLength: 80 }));
  return fc.record({
    keyIndex: fc.nat(),
    header: fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .dictionary(headerName, plausible, { maxKeys: 3 })
          .map((extra) => ({ kind: "object" as const, extra })),
      },
      { weight: 1, arbitrary: rawJson.map((bytes) => ({ kind: "raw" as const, bytes })) },
    ),
    payload: fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .dictionary(claimName, plausible, { maxKeys: 4 })
          .map((overrides) => ({ kind: "claims" as const, overrides })),
      },
      { weight: 1, arbitrary: rawJson.map((bytes) => ({ kind: "raw" as const, bytes })) },
    ),
  });
}

async function signWeird(issuer: TestIssuer, spec: WeirdTokenSpec): Promise<string> {
  const keys: TestKey[] = [keyFor(issuer, "ES256"), keyFor(issuer, "RS256")];
  const key = keys[spec.keyIndex % keys.length]!;
  const header =
    spec.header.kind === "raw"
      ? spec.header.bytes
      : JSON.stringify({ alg: key.alg, kid: key.kid, ...spec.header.extra });
  const payload =
    spec.payload.kind === "raw"
      ? spec.payload.bytes
      : JSON.stringify({ ...validClaims(issuer), ...spec.payload.overrides });
  return signRaw(key, header, payload);
}

// --- checks --------------------------------------------------------------------------------

/** An accepted token must really satisfy the checks, and its identity must be well-formed. */
function expectSoundIdentity(identity: Identity, issuer: TestIssuer): void {
  const { claims } = identity;
  expect(claims.iss).toBe(issuer.issuer);
  const aud = claims.aud;
  expect(
    aud === issuer.audience || (Array.isArray(aud) && aud.includes(issuer.audience as string)),
  ).toBe(true);
  expect(typeof claims.exp).toBe("number");
  expect((claims.exp as number) * 1000).toBeGreaterThan(Date.now() - 10_000);
  if (claims.nbf !== undefined)
    expect((claims.nbf as number) * 1000).toBeLessThan(Date.now() + 10_000);
  expect(["string", "undefined"]).toContain(typeof identity.sub);
  for (const list of [identity.roles, identity.scopes]) {
    expect(Array.isArray(list)).toBe(true);
    for (const item of list) expect(typeof item).toBe("string");
  }
  expect(Object.isFrozen(identity)).toBe(true);
  expect(Object.isFrozen(identity.claims)).toBe(true);
  expect(({} as Record<string, unknown>).role).toBeUndefined();
}

async function outcome<T>(run: () => T | Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await run() };
  } catch (error) {
    return { error };
  }
}

// --- the properties --------------------------------------------------------------------------

let issuer: TestIssuer;
let verifier: Verifier;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ["ES256", "RS256"] });
  verifier = createVerifier({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
  });
  await verifier.ready();
});

afterAll(() => issuer.close());

describe("token extraction", () => {
  it("findToken: any Authorization value gives a b64token, nothing, or a 400/401", () => {
    fc.assert(
      fc.property(authorizationValue, (value) => {
        let token: string | undefined;
        try {
          token = findToken({ headers: { authorization: value } });
        } catch (error) {
          expectAuthError(error, [400, 401]);
          return;
        }
        if (token !== undefined) {
          expect(token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
          expect(token.length).toBeLessThanOrEqual(16 * 1024);
          expect(value.toLowerCase()).toContain(token.toLowerCase());
        }
      }),
      runs(3000),
    );
  });

  it("findToken: any headers, raw headers, cookie and query with every source enabled", () => {
    const request = fc.record({
      authorization: fc.option(
        fc.oneof(authorizationValue, fc.array(headerText, { maxLength: 3 })),
        {
          nil: undefined,
        },
      ),
      cookie: fc.option(
        fc.oneof(
          headerText,
          tokenShaped.map((token) => `session=x; access_token=${token}`),
        ),
        { nil: undefined },
      ),
      query: fc.option(
        fc.oneof(
          headerText.map((text) => `access_token=${encodeURIComponent(text)}`),
          tokenShaped.map((token) => `access_token=${token}&access_token=${token}`),
          tokenShaped.map((token) => `a=1&access_token=${token}`),
        ),
        { nil: undefined },
      ),
      extraAuthorization: fc.boolean(),
    });
    fc.assert(
      fc.property(request, ({ authorization, cookie, query, extraAuthorization }) => {
        const headers: Record<string, string | string[]> = {};
        const rawHeaders: string[] = [];
        if (authorization !== undefined) {
          headers.authorization = authorization;
          for (const value of [authorization].flat()) rawHeaders.push("Authorization", value);
          if (extraAuthorization) rawHeaders.push("authorization", "Bearer a.b.c");
        }
        if (cookie !== undefined) headers.cookie = cookie;
        const tokenRequest: TokenRequest = {
          headers,
          rawHeaders,
          url: query === undefined ? "/me" : `/me?${query}`,
        };
        try {
          const token = findToken(tokenRequest, {
            cookieName: "access_token",
            allowInsecureQueryToken: true,
          });
          if (token !== undefined) expect(token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
        } catch (error) {
          expectAuthError(error, [400, 401]);
        }
      }),
      runs(1500),
    );
  });

  it("extractToken: never returns nothing; refuses with a 400/401", () => {
    fc.assert(
      fc.property(fc.option(authorizationValue, { nil: undefined }), (value) => {
        try {
          const token = extractToken({
            headers: value === undefined ? {} : { authorization: value },
          });
          expect(typeof token).toBe("string");
          expect(token.length).toBeGreaterThan(0);
        } catch (error) {
          expectAuthError(error, [400, 401]);
        }
      }),
      runs(1500),
    );
  });
});

describe("verification", () => {
  it("verify: any string is refused with a 401", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), headerText), async (token) => {
        const { value, error } = await outcome(() => verifier.verify(token));
        expect(value).toBeUndefined();
        expectAuthError(error, [401]);
      }),
      runs(500),
    );
  });

  it("verify: any token-shaped string is refused with a 401", async () => {
    await fc.assert(
      fc.asyncProperty(tokenShaped, async (token) => {
        const { value, error } = await outcome(() => verifier.verify(token));
        expect(value).toBeUndefined();
        expectAuthError(error, [401]);
      }),
      runs(600),
    );
  });

  it("verify: validly signed odd headers and payloads are accepted only when sound", async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(weirdTokenSpec(issuer), async (spec) => {
        const token = await signWeird(issuer, spec);
        const { value: identity, error } = await outcome(() => verifier.verify(token));
        if (identity === undefined) {
          expectAuthError(error, [401]);
          refused += 1;
          return;
        }
        accepted += 1;
        expectSoundIdentity(identity, issuer);
        const guarded = await outcome(() =>
          verifier.authorize(identity, [anyRole("standard user")]),
        );
        if (identity.roles.includes("standard user")) expect(guarded.error).toBeUndefined();
        else expectAuthError(guarded.error, [403]);
      }),
      runs(600),
    );
    // The generator must reach both sides, or the property proves nothing.
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it("authenticate: any Authorization value or token is refused with a 400/401", async () => {
    const value = fc.oneof(
      authorizationValue,
      tokenShaped.map((token) => `Bearer ${token}`),
    );
    await fc.assert(
      fc.asyncProperty(value, fc.boolean(), async (authorization, optional) => {
        const { value: identity, error } = await outcome(() =>
          verifier.authenticate({ headers: { authorization } }, { optional }),
        );
        if (error === undefined) {
          // Only "no bearer token at all" may pass, and only as anonymous on optional auth.
          expect(optional).toBe(true);
          expect(identity).toBeUndefined();
          return;
        }
        expectAuthError(error, [400, 401]);
      }),
      runs(600),
    );
  });
});

describe.each(socketHarnesses)("$name over HTTP", (harness) => {
  let app: HarnessApp;

  beforeAll(async () => {
    app = await harness.start({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
    });
  });

  afterAll(() => app.close());

  const path = fc.constantFrom("/me", "/orders", "/admin", "/scoped", "/public");

  it("answers junk Authorization values with a well-formed 400/401", async () => {
    const value = fc.oneof(
      authorizationValue,
      tokenShaped.map((token) => `Bearer ${token}`),
    );
    await fc.assert(
      fc.asyncProperty(path, value, async (route, authorization) => {
        const reply = await app.request(route, { authorization });
        if (reply.status === 200) {
          // Optional auth lets a request with no bearer token through, anonymously.
          expect(route).toBe("/public");
          expect(reply.body).toEqual({ auth: null });
          return;
        }
        expect([400, 401]).toContain(reply.status);
        expectWellFormedRefusal(reply);
      }),
      runs(100),
    );
  });

  it("answers validly signed odd tokens with 200 only for sound ones, else a well-formed 401/403", async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(path, weirdTokenSpec(issuer), async (route, spec) => {
        const token = await signWeird(issuer, spec);
        const reply = await app.request(route, { authorization: `Bearer ${token}` });
        statuses.add(reply.status);
        expectNoStackTrace(reply.body);
        if (reply.status === 200) {
          // Cross-check against core: the same token must verify there too.
          const identity = await verifier.verify(token);
          expectSoundIdentity(identity, issuer);
          expect(reply.body).toMatchObject({ auth: { roles: [...identity.roles] } });
          return;
        }
        expect([401, 403]).toContain(reply.status);
        expectWellFormedRefusal(reply);
      }),
      runs(100),
    );
    expect(statuses).toContain(200);
    expect(statuses).toContain(401);
  });
});
