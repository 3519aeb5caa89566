import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Case, type CaseContext, cases } from "../../../../test/conformance/cases.js";
import type { Harness, HarnessReply } from "../../../../test/conformance/harness.js";
import { honoHarness } from "../../../../test/conformance/hono-harness.js";
import { type RunningRuntime, runtimes } from "./launch.js";
import { runtimeHarness } from "./runtime-harness.js";
import { EXPECTED, scenarios } from "./scenarios.js";

// The conformance table and the key-source scenarios, run against the same Hono app inside
// workerd (Miniflare), Bun and Deno, each serving real HTTP on loopback and fetching keys from a
// real local JWKS server. Node's answers (hono on @hono/node-server) are the reference.

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

const summary = (reply: HarnessReply) => ({
  status: reply.status,
  challenge: reply.headers["www-authenticate"] ?? null,
  retryAfter: reply.headers["retry-after"] !== undefined,
  contentType: reply.headers["content-type"]?.split(";")[0],
  body: reply.body,
});

describe.each(runtimes)("hono on $name", (runtime) => {
  let running: RunningRuntime;
  const harness = runtimeHarness(`hono (${runtime.name})`, () => running);

  beforeAll(async () => {
    running = await runtime.start();
  });

  afterAll(async () => {
    await running?.stop();
  });

  it.each(cases)("answers like Node: $name", async (testCase) => {
    const [reply, reference] = await Promise.all([
      runCase(harness, testCase),
      runCase(honoHarness, testCase),
    ]);
    expect(reply.status).toBe(testCase.expect.status);
    expect(reply.headers["www-authenticate"] ?? null).toBe(testCase.expect.challenge);
    expect(summary(reply)).toEqual(summary(reference));
  });

  it.each(scenarios)("$name behaves as on Node", async (scenario) => {
    expect(await scenario.run(harness)).toEqual(EXPECTED[scenario.name]);
  });
});

describe("hono on node", () => {
  // The reference the table in the README states; pinned here so a change shows up in both.
  it.each(scenarios)("$name", async (scenario) => {
    expect(await scenario.run(honoHarness)).toEqual(EXPECTED[scenario.name]);
  });
});
