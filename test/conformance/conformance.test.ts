import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Case, type CaseContext, cases } from "./cases.js";
import { expressHarness } from "./express-harness.js";
import { fastifyInjectHarness, fastifySocketHarness } from "./fastify-harness.js";
import type { Harness, HarnessReply } from "./harness.js";
import { honoHarness } from "./hono-harness.js";
import { koaHarness } from "./koa-harness.js";

const harnesses: Harness[] = [
  expressHarness,
  koaHarness,
  fastifyInjectHarness,
  fastifySocketHarness,
  honoHarness,
];

let shared: CaseContext;

beforeAll(async () => {
  const [issuer, second, untrusted] = await Promise.all([
    createTestIssuer({ algorithms: ["RS256", "PS256", "ES256", "EdDSA"] }),
    createTestIssuer({ algorithms: ["ES256"] }),
    createTestIssuer(),
  ]);
  shared = { issuer, second, untrusted };
});

afterAll(async () => {
  await Promise.all([shared.issuer.close(), shared.second.close(), shared.untrusted.close()]);
});

/**
 * One reply per adapter and case, shared by the conformance check and the agreement check, so
 * either runs alone (`vitest run -t "agree"`) or in any order and asks each app only once.
 */
const replies = new Map<string, Promise<HarnessReply>>();

function replyOf(harness: Harness, testCase: Case): Promise<HarnessReply> {
  const key = `${harness.name}\u0000${testCase.name}`;
  let reply = replies.get(key);
  if (reply === undefined) {
    reply = runCase(harness, testCase);
    replies.set(key, reply);
  }
  return reply;
}

async function runCase(harness: Harness, testCase: Case): Promise<HarnessReply> {
  const fresh: TestIssuer | undefined =
    testCase.fresh === true ? await createTestIssuer() : undefined;
  const ctx: CaseContext = fresh === undefined ? shared : { ...shared, issuer: fresh };
  const options = testCase.options?.(ctx) ?? {
    jwksUri: ctx.issuer.jwksUri,
    issuer: ctx.issuer.issuer,
    audience: ctx.issuer.audience,
  };
  const app = await harness.start(options);
  try {
    await testCase.setup?.(ctx, app);
    const reply = await app.request(testCase.path ?? "/me", await testCase.headers(ctx));
    testCase.verify?.(ctx, reply);
    return reply;
  } finally {
    await app.close();
    await fresh?.close();
  }
}

describe.each(harnesses)("$name conforms", (harness) => {
  it.each(cases)("$name", async (testCase) => {
    const reply = await replyOf(harness, testCase);
    const { expect: expected } = testCase;
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: expected.status });
    expect(reply.headers["www-authenticate"] ?? null).toBe(expected.challenge);
    if (expected.retryAfter === true) expect(reply.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
    expect(reply.headers["content-type"]).toMatch(/^application\/json/);
    if (expected.status === 200) {
      if (expected.body !== undefined && "auth" in expected.body)
        expect(reply.body).toEqual(expected.body);
      else expect(reply.body).toMatchObject({ auth: expected.body ?? {} });
    } else {
      expect(reply.body).toEqual(expected.body);
    }
  });
});

describe("every adapter agrees", () => {
  it.each(cases)("$name", async (testCase) => {
    const answered = await Promise.all(
      harnesses.map(async (harness) => [harness.name, await replyOf(harness, testCase)] as const),
    );
    const summary = ([, reply]: readonly [string, HarnessReply]) => ({
      status: reply.status,
      challenge: reply.headers["www-authenticate"],
      retryAfter: reply.headers["retry-after"] !== undefined,
      body: reply.body,
    });
    const [first] = answered;
    for (const entry of answered) {
      expect({ adapter: entry[0], ...summary(entry) }).toEqual({
        adapter: entry[0],
        ...summary(first!),
      });
    }
  });
});

// Upper/mixed case, trailing slashes, percent-encoded letters and doubled slashes of guarded
// paths, including routes under a prefix: none may reach a handler without a token. Adapters
// may differ between 401 and 404 here (Fastify decodes %41 before routing), never on 200.
const ROUTING_VARIANTS = [
  "/ADMIN",
  "/Admin/",
  "/%41dmin",
  "//admin",
  "/AREA/ADMIN",
  "/Area/Admin/",
  "/area/ADMIN/",
  "/%41rea/admin",
  "/area/%61dmin",
  "//area//admin",
  "/GUARDED",
  "/Public-Admin/",
];

describe.each(harnesses)("$name routing variants", (harness) => {
  it("never reach a guarded handler without a token", async () => {
    const app = await harness.start({
      jwksUri: shared.issuer.jwksUri,
      issuer: shared.issuer.issuer,
      audience: shared.issuer.audience,
    });
    try {
      for (const path of ROUTING_VARIANTS) {
        const reply = await app.request(path);
        expect({ path, status: reply.status }).toEqual({
          path,
          status: reply.status === 404 ? 404 : 401,
        });
        expect({ path, body: reply.body }).not.toMatchObject({ path, body: { auth: null } });
      }
    } finally {
      await app.close();
    }
  });
});

describe.each(harnesses)("$name without authErrorHandler", (harness) => {
  const withoutHandler = async (
    path: string,
    headers: (issuer: TestIssuer) => Promise<Record<string, string>>,
  ) => {
    const app = await harness.start(
      {
        jwksUri: shared.issuer.jwksUri,
        issuer: shared.issuer.issuer,
        audience: shared.issuer.audience,
      },
      { errorHandler: false },
    );
    try {
      const reply = await app.request(path, await headers(shared.issuer));
      // Default handlers print `err.stack` in some modes (Express outside production, as HTML
      // with &nbsp; for spaces): no frame of ours may reach the client.
      expect(JSON.stringify(reply.body)).not.toMatch(
        /(\s|&nbsp;)at(\s|&nbsp;)|\.js:\d|node_modules/,
      );
      return reply;
    } finally {
      await app.close();
    }
  };

  it("answers a missing token with 401 and a bare challenge", async () => {
    const reply = await withoutHandler("/me", async () => ({}));
    expect(reply.status).toBe(401);
    expect(reply.headers["www-authenticate"]).toBe('Bearer realm="api"');
  });

  it("answers an expired token with 401 invalid_token", async () => {
    const reply = await withoutHandler("/me", async (issuer) => ({
      authorization: `Bearer ${await issuer.sign({}, { expiresInSec: -60, issuedAtSec: -120 })}`,
    }));
    expect(reply.status).toBe(401);
    expect(reply.headers["www-authenticate"]).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
    );
  });

  it("answers a missing role with 403 insufficient_scope", async () => {
    const reply = await withoutHandler("/admin", async (issuer) => ({
      authorization: `Bearer ${await issuer.sign({ role: "standard user" })}`,
    }));
    expect(reply.status).toBe(403);
    expect(reply.headers["www-authenticate"]).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required role"',
    );
  });
});
