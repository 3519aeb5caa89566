import type { VerifierOptions } from "@meishi/core";
import { createDpopClient, createTestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowed, type DpopCase, type DpopContext, dpopCases } from "./dpop-cases.js";
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

let ctx: DpopContext;

beforeAll(async () => {
  const [issuer, client, thief] = await Promise.all([
    createTestIssuer({ algorithms: ["ES256"] }),
    createDpopClient("ES256"),
    createDpopClient("ES256"),
  ]);
  ctx = { issuer, client, thief };
});

afterAll(async () => {
  await ctx.issuer.close();
});

// One reply per adapter and case, shared by both checks so each app is asked once.
const replies = new Map<string, Promise<HarnessReply>>();

function replyOf(harness: Harness, testCase: DpopCase): Promise<HarnessReply> {
  const key = `${harness.name}\u0000${testCase.name}`;
  let reply = replies.get(key);
  if (reply === undefined) {
    reply = runCase(harness, testCase);
    replies.set(key, reply);
  }
  return reply;
}

async function runCase(harness: Harness, testCase: DpopCase): Promise<HarnessReply> {
  const options = {
    jwksUri: ctx.issuer.jwksUri,
    issuer: ctx.issuer.issuer,
    audience: ctx.issuer.audience,
    logger: false,
    ...(testCase.options ?? allowed),
  } as VerifierOptions;
  const app = await harness.start(options);
  try {
    return await testCase.send(ctx, app);
  } finally {
    await app.close();
  }
}

describe.each(harnesses)("$name: DPoP, resource metadata and step-up", (harness) => {
  it.each(dpopCases)("$name ($spec)", async (testCase) => {
    const reply = await replyOf(harness, testCase);
    const { expect: expected } = testCase;
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: expected.status });
    expect(reply.headers["www-authenticate"] ?? null).toBe(expected.challenge);
    expect(reply.headers["content-type"]).toMatch(/^application\/json/);
    if (expected.nonce === true) expect(reply.headers["dpop-nonce"]).toMatch(/^[A-Za-z0-9_-]{32}$/);
    if (expected.nonce === false) expect(reply.headers["dpop-nonce"]).toBeUndefined();
    if (expected.status === 200) expect(reply.body).toMatchObject({ auth: expected.body ?? {} });
    else expect(reply.body).toEqual(expected.body);
  });
});

describe("every adapter agrees on DPoP, resource metadata and step-up", () => {
  it.each(dpopCases)("$name", async (testCase) => {
    const answered = await Promise.all(
      harnesses.map(async (harness) => [harness.name, await replyOf(harness, testCase)] as const),
    );
    const summary = ([name, reply]: readonly [string, HarnessReply]) => ({
      status: reply.status,
      challenge: reply.headers["www-authenticate"],
      nonce: reply.headers["dpop-nonce"] !== undefined,
      body: reply.body,
      adapter: name,
    });
    const [first] = answered;
    for (const entry of answered) {
      expect(summary(entry)).toEqual({ ...summary(first!), adapter: entry[0] });
    }
  });
});
