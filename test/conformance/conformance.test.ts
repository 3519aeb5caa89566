import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Case, type CaseContext, cases } from "./cases.js";
import { expressHarness } from "./express-harness.js";
import { fastifyInjectHarness, fastifySocketHarness } from "./fastify-harness.js";
import type { Harness, HarnessReply } from "./harness.js";
import { koaHarness } from "./koa-harness.js";

const harnesses: Harness[] = [
  expressHarness,
  koaHarness,
  fastifyInjectHarness,
  fastifySocketHarness,
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

/** What each adapter answered, by case, for the agreement check at the end. */
const observed = new Map<string, Map<string, HarnessReply>>();

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
    const reply = await runCase(harness, testCase);
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
    const byHarness = observed.get(testCase.name) ?? new Map<string, HarnessReply>();
    byHarness.set(harness.name, reply);
    observed.set(testCase.name, byHarness);
  });
});

describe("every adapter agrees", () => {
  it.each(cases)("$name", (testCase) => {
    const replies = [...(observed.get(testCase.name)?.entries() ?? [])];
    expect(replies.map(([name]) => name)).toEqual(harnesses.map((harness) => harness.name));
    const [first] = replies;
    const summary = ([, reply]: [string, HarnessReply]) => ({
      status: reply.status,
      challenge: reply.headers["www-authenticate"],
      retryAfter: reply.headers["retry-after"] !== undefined,
      body: reply.body,
    });
    for (const entry of replies) expect(summary(entry)).toEqual(summary(first!));
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
