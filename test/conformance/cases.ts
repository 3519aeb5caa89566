import type { VerifierOptions } from "@meishi/core";
import {
  createUnsecuredToken,
  generateTestKey,
  signHmacToken,
  signToken,
  type TestIssuer,
  tamperPayload,
} from "@meishi/testing";
import type { HarnessApp, HarnessReply } from "./harness.js";

/** What a case may use: issuers started for the whole suite, or a fresh one. */
export interface CaseContext {
  /** The case's issuer: shared (RS256, PS256, ES256, EdDSA keys), or fresh when `fresh` is set. */
  issuer: TestIssuer;
  /** A second trusted issuer, for multi-issuer cases. */
  second: TestIssuer;
  /** An issuer no app trusts. Nothing must ever fetch from it. */
  untrusted: TestIssuer;
}

export interface Expectation {
  status: number;
  /** The exact `WWW-Authenticate` value; `null` means the header must be absent. */
  challenge: string | null;
  /** The exact JSON body of an error; for a success, the fields of `body.auth` to match. */
  body?: Record<string, unknown>;
  /** A `Retry-After` of whole seconds must be sent (its value depends on the fetch backoff). */
  retryAfter?: boolean;
}

/** The routes every harness serves (see `Harness`). */
export type ConformancePath =
  | "/me"
  | "/orders"
  | "/admin"
  | "/scoped"
  | "/public"
  | "/guarded"
  | "/public-admin"
  | "/area/admin";

export interface Case {
  name: string;
  /** Use a fresh issuer (RS256) because the case changes its keys or faults. */
  fresh?: boolean;
  /** Verifier options; default `{ jwksUri, issuer, audience }` of the case's issuer. */
  options?: (ctx: CaseContext) => VerifierOptions;
  /** Runs after the app starts and before the request (warm-ups, rotation, faults). */
  setup?: (ctx: CaseContext, app: HarnessApp) => Promise<void>;
  path?: ConformancePath;
  /** The request headers. */
  headers: (ctx: CaseContext) => Promise<Record<string, string>>;
  expect: Expectation;
  /** Extra checks after the request. */
  verify?: (ctx: CaseContext, reply: HarnessReply) => void;
}

const REALM = 'realm="api"';
const BARE_CHALLENGE = `Bearer ${REALM}`;

function invalidToken(description = "The access token is invalid"): Expectation {
  return {
    status: 401,
    challenge: `Bearer ${REALM}, error="invalid_token", error_description="${description}"`,
    body: { error: "invalid_token", error_description: description },
  };
}

function invalidRequest(description: string): Expectation {
  return {
    status: 400,
    challenge: `Bearer ${REALM}, error="invalid_request", error_description="${description}"`,
    body: { error: "invalid_request", error_description: description },
  };
}

function insufficientScope(description: string, scope?: string): Expectation {
  const scopeAttribute = scope === undefined ? "" : `, scope="${scope}"`;
  return {
    status: 403,
    challenge: `Bearer ${REALM}, error="insufficient_scope", error_description="${description}"${scopeAttribute}`,
    body: { error: "insufficient_scope", error_description: description },
  };
}

const MISSING_TOKEN: Expectation = {
  status: 401,
  challenge: BARE_CHALLENGE,
  body: { error: "missing_token", error_description: "Authentication is required" },
};

const LACKS_ROLE = insufficientScope("The access token lacks a required role");

function ok(auth: Record<string, unknown> | null): Expectation {
  return { status: 200, challenge: null, body: auth === null ? { auth: null } : auth };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function expectStatus(reply: Promise<HarnessReply>, status: number): Promise<void> {
  const { status: actual, body } = await reply;
  if (actual !== status) {
    throw new Error(`setup expected ${status}, got ${actual}: ${JSON.stringify(body)}`);
  }
}

async function warmUp(ctx: CaseContext, app: HarnessApp): Promise<void> {
  await expectStatus(app.request("/me", bearer(await ctx.issuer.sign())), 200);
}

const algorithmCases: Case[] = (["RS256", "PS256", "ES256", "EdDSA"] as const).map((alg) => ({
  name: `accepts a valid ${alg} token`,
  headers: async ({ issuer }) => bearer(await issuer.sign({ sub: `alice-${alg}` }, { alg })),
  expect: ok({ sub: `alice-${alg}`, roles: [], scopes: [] }),
}));

/** The conformance table. Add a case here and it runs against every adapter. */
export const cases: Case[] = [
  ...algorithmCases,
  {
    name: "accepts a lowercase bearer scheme",
    headers: async ({ issuer }) => ({
      authorization: `bearer ${await issuer.sign({ sub: "bob" })}`,
    }),
    expect: ok({ sub: "bob" }),
  },
  {
    name: "accepts a token whose audience array contains the expected audience",
    headers: async ({ issuer }) =>
      bearer(await issuer.sign({ aud: ["https://other.example", issuer.audience as string] })),
    expect: ok({ sub: "user-123" }),
  },
  {
    name: "accepts a token whose audience is one of several configured",
    options: ({ issuer }) => ({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: ["https://other.example", issuer.audience as string],
    }),
    headers: async ({ issuer }) => bearer(await issuer.sign()),
    expect: ok({ sub: "user-123" }),
  },
  {
    name: "refuses a request without a token with a bare challenge",
    headers: async () => ({}),
    expect: MISSING_TOKEN,
  },
  {
    name: "treats the Basic scheme as no token",
    headers: async () => ({ authorization: "Basic dXNlcjpwYXNz" }),
    expect: MISSING_TOKEN,
  },
  {
    name: "refuses an empty bearer value as invalid_request",
    headers: async () => ({ authorization: "Bearer " }),
    expect: invalidRequest("The Authorization header has no bearer token"),
  },
  {
    name: "refuses two credentials in one header as invalid_request",
    headers: async ({ issuer }) => {
      const token = await issuer.sign();
      return { authorization: `Bearer ${token} ${token}` };
    },
    expect: invalidRequest("The Authorization header must carry exactly one bearer token"),
  },
  {
    name: "refuses two folded Authorization values as invalid_request",
    headers: async ({ issuer }) => {
      const token = await issuer.sign();
      return { authorization: `Bearer ${token}, Bearer ${token}` };
    },
    expect: invalidRequest("The request must carry exactly one Authorization header"),
  },
  {
    name: "refuses a malformed token",
    headers: async () => bearer("not-a-jwt"),
    expect: invalidToken("The access token is malformed"),
  },
  {
    name: "refuses an expired token",
    headers: async ({ issuer }) =>
      bearer(await issuer.sign({}, { expiresInSec: -60, issuedAtSec: -120 })),
    expect: invalidToken("The access token expired"),
  },
  {
    name: "refuses a token that is not valid yet",
    headers: async ({ issuer }) => bearer(await issuer.sign({}, { notBeforeSec: 120 })),
    expect: invalidToken("The access token is not valid yet"),
  },
  {
    name: "refuses a token from the wrong issuer",
    headers: async ({ issuer }) => bearer(await issuer.sign({ iss: "https://evil.example" })),
    expect: invalidToken(),
  },
  {
    name: "refuses a token for another audience",
    headers: async ({ issuer }) => bearer(await issuer.sign({ aud: "https://other.example" })),
    expect: invalidToken(),
  },
  {
    name: "refuses a token whose payload was edited",
    path: "/admin",
    headers: async ({ issuer }) =>
      bearer(tamperPayload(await issuer.sign({ role: "standard user" }), { role: "admin" })),
    expect: invalidToken(),
  },
  {
    name: "refuses a token signed by an unknown key under a known kid",
    headers: async ({ issuer }) => {
      const kid = issuer.keys.find((key) => key.alg === "RS256")?.kid;
      const attacker = await generateTestKey("RS256", kid);
      const now = Math.floor(Date.now() / 1000);
      return bearer(
        await signToken(attacker, {
          iss: issuer.issuer,
          aud: issuer.audience,
          exp: now + 60,
          iat: now,
        }),
      );
    },
    expect: invalidToken(),
  },
  {
    name: "refuses an alg none token",
    headers: async ({ issuer }) => {
      const now = Math.floor(Date.now() / 1000);
      return bearer(
        createUnsecuredToken({ iss: issuer.issuer, aud: issuer.audience, exp: now + 60 }),
      );
    },
    expect: invalidToken(),
  },
  {
    name: "refuses an HS256 token without fetching keys",
    fresh: true,
    headers: async ({ issuer }) => {
      const now = Math.floor(Date.now() / 1000);
      return bearer(
        await signHmacToken("secret", { iss: issuer.issuer, aud: issuer.audience, exp: now + 60 }),
      );
    },
    expect: invalidToken(),
    verify: ({ issuer }) => {
      if (issuer.requests.total !== 0) throw new Error("an HS256 token caused a JWKS fetch");
    },
  },
  {
    name: "refuses an unknown kid after exactly one refetch",
    fresh: true,
    setup: async (ctx, app) => {
      await warmUp(ctx, app);
      await ctx.issuer.addKey("RS256", { kid: "never-published", publish: false });
    },
    headers: async ({ issuer }) => bearer(await issuer.sign({}, { kid: "never-published" })),
    expect: invalidToken(),
    verify: ({ issuer }) => {
      if (issuer.requests.jwks !== 2)
        throw new Error(`expected 2 JWKS fetches, saw ${issuer.requests.jwks}`);
    },
  },
  {
    name: "accepts a token signed with a rotated-in key",
    fresh: true,
    setup: async (ctx, app) => {
      await warmUp(ctx, app);
      await ctx.issuer.rotate();
    },
    headers: async ({ issuer }) => bearer(await issuer.sign({ sub: "rotated" })),
    expect: ok({ sub: "rotated" }),
    verify: ({ issuer }) => {
      if (issuer.requests.jwks !== 2)
        throw new Error(`expected 2 JWKS fetches, saw ${issuer.requests.jwks}`);
    },
  },
  {
    name: "lets a role holder through a role guard",
    path: "/orders",
    headers: async ({ issuer }) =>
      bearer(await issuer.sign({ sub: "carol", role: "standard user" })),
    expect: ok({ sub: "carol", roles: ["standard user"] }),
  },
  {
    name: "reads roles from an array",
    path: "/admin",
    headers: async ({ issuer }) => bearer(await issuer.sign({ role: ["standard user", "admin"] })),
    expect: ok({ roles: ["standard user", "admin"] }),
  },
  {
    name: "refuses a token without the role with 403",
    path: "/orders",
    headers: async ({ issuer }) => bearer(await issuer.sign()),
    expect: LACKS_ROLE,
  },
  {
    name: "refuses another role with 403",
    path: "/admin",
    headers: async ({ issuer }) => bearer(await issuer.sign({ role: "standard user" })),
    expect: LACKS_ROLE,
  },
  {
    name: "compares roles case-sensitively",
    path: "/orders",
    headers: async ({ issuer }) => bearer(await issuer.sign({ role: "Standard User" })),
    expect: LACKS_ROLE,
  },
  {
    name: "ignores a role claim of the wrong type",
    path: "/orders",
    headers: async ({ issuer }) => bearer(await issuer.sign({ role: 42 })),
    expect: LACKS_ROLE,
  },
  {
    name: "answers 401, not 403, on a guarded route without a token",
    path: "/orders",
    headers: async () => ({}),
    expect: MISSING_TOKEN,
  },
  {
    name: "lets a scope holder through a scope guard",
    path: "/scoped",
    headers: async ({ issuer }) => bearer(await issuer.sign({ scope: "orders:write orders:read" })),
    expect: ok({ scopes: ["orders:write", "orders:read"] }),
  },
  {
    name: "reads scopes from an scp array",
    path: "/scoped",
    headers: async ({ issuer }) => bearer(await issuer.sign({ scp: ["orders:read"] })),
    expect: ok({ scopes: ["orders:read"] }),
  },
  {
    name: "refuses a token without the scope with 403 naming the scope",
    path: "/scoped",
    headers: async ({ issuer }) => bearer(await issuer.sign({ scope: "orders:write" })),
    expect: insufficientScope("The access token lacks a required scope", "orders:read"),
  },
  {
    name: "lets a request without a token through optional auth",
    path: "/public",
    headers: async () => ({}),
    expect: ok(null),
  },
  {
    name: "attaches the identity on optional auth when a token is sent",
    path: "/public",
    headers: async ({ issuer }) => bearer(await issuer.sign({ sub: "dave" })),
    expect: ok({ sub: "dave" }),
  },
  {
    name: "still refuses a bad token on optional auth",
    path: "/public",
    headers: async ({ issuer }) =>
      bearer(await issuer.sign({}, { expiresInSec: -60, issuedAtSec: -120 })),
    expect: invalidToken("The access token expired"),
  },
  {
    name: "keeps answering from cached keys when the JWKS goes down",
    fresh: true,
    setup: async (ctx, app) => {
      await warmUp(ctx, app);
      ctx.issuer.setFault({ kind: "status", status: 500 });
    },
    headers: async ({ issuer }) => bearer(await issuer.sign({ sub: "erin" })),
    expect: ok({ sub: "erin" }),
  },
  {
    name: "answers 503 with Retry-After when the JWKS is down on a cold start",
    fresh: true,
    setup: async ({ issuer }) => issuer.setFault({ kind: "status", status: 500 }),
    headers: async ({ issuer }) => bearer(await issuer.sign()),
    expect: {
      status: 503,
      challenge: null,
      retryAfter: true,
      body: {
        error: "temporarily_unavailable",
        error_description: "The service cannot verify tokens right now",
      },
    },
  },
  {
    name: "accepts a token from the second of two trusted issuers",
    options: ({ issuer, second }) => ({
      issuers: [
        { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience },
        { issuer: second.issuer, jwksUri: second.jwksUri, audience: second.audience },
      ],
    }),
    headers: async ({ second }) =>
      bearer(await second.sign({ sub: "from-second" }, { alg: "ES256" })),
    expect: ok({ sub: "from-second" }),
  },
  {
    name: "refuses a token from an untrusted issuer without contacting it",
    options: ({ issuer, second }) => ({
      issuers: [
        { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience },
        { issuer: second.issuer, jwksUri: second.jwksUri, audience: second.audience },
      ],
    }),
    headers: async ({ untrusted }) => bearer(await untrusted.sign()),
    expect: invalidToken(),
    verify: ({ untrusted }) => {
      if (untrusted.requests.total !== 0) throw new Error("the untrusted issuer was contacted");
    },
  },
  {
    name: "a guard with no identity answers its own 401 with a bare challenge",
    path: "/guarded",
    headers: async () => ({}),
    expect: MISSING_TOKEN,
  },
  {
    name: "a guard after optional authentication answers 401 when no token was sent",
    path: "/public-admin",
    headers: async () => ({}),
    expect: MISSING_TOKEN,
  },
  {
    name: "a guard after optional authentication answers 403 for a token without the role",
    path: "/public-admin",
    headers: async ({ issuer }) => bearer(await issuer.sign({ role: "standard user" })),
    expect: LACKS_ROLE,
  },
  {
    name: "a guard after optional authentication passes a token with the role",
    path: "/public-admin",
    headers: async ({ issuer }) => bearer(await issuer.sign({ sub: "opt", role: "admin" })),
    expect: ok({ sub: "opt", roles: ["admin"] }),
  },
  {
    name: "a prefixed route refuses a request without a token",
    path: "/area/admin",
    headers: async () => ({}),
    expect: MISSING_TOKEN,
  },
  {
    name: "a prefixed route refuses a token without the role",
    path: "/area/admin",
    headers: async ({ issuer }) => bearer(await issuer.sign({ role: "standard user" })),
    expect: LACKS_ROLE,
  },
  {
    name: "a prefixed route passes a token with the role",
    path: "/area/admin",
    headers: async ({ issuer }) => bearer(await issuer.sign({ sub: "area", role: "admin" })),
    expect: ok({ sub: "area", roles: ["admin"] }),
  },
];
