import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Harness, HarnessReply } from "../conformance/harness.js";
import { type AttackCase, type AttackContext, attacks } from "./attacks.js";
import {
  BARE_CHALLENGE,
  expectNoStackTrace,
  guardProcess,
  REALM,
  socketHarnesses,
} from "./support.js";

guardProcess();

let shared: AttackContext;

beforeAll(async () => {
  const [issuer, second, attacker] = await Promise.all([
    createTestIssuer({ algorithms: ["RS256", "PS256", "ES256", "EdDSA"] }),
    createTestIssuer({ algorithms: ["ES256"] }),
    createTestIssuer({ algorithms: ["RS256"] }),
  ]);
  shared = { issuer, second, attacker };
});

afterAll(async () => {
  const attackerRequests = shared.attacker.requests.total;
  await Promise.all([shared.issuer.close(), shared.second.close(), shared.attacker.close()]);
  // The attacker's server is named by jku, x5u and redirects throughout: never contacted.
  expect(attackerRequests).toBe(0);
});

async function runAttack(harness: Harness, attack: AttackCase): Promise<HarnessReply> {
  const fresh: TestIssuer | undefined =
    attack.fresh === true ? await createTestIssuer({ algorithms: ["ES256"] }) : undefined;
  const ctx: AttackContext = fresh === undefined ? shared : { ...shared, issuer: fresh };
  const options = attack.options?.(ctx) ?? {
    jwksUri: ctx.issuer.jwksUri,
    issuer: ctx.issuer.issuer,
    audience: ctx.issuer.audience,
  };
  const app = await harness.start(options);
  try {
    await attack.setup?.(ctx, app);
    const path =
      typeof attack.path === "function" ? await attack.path(ctx) : (attack.path ?? "/me");
    const headers = await attack.headers(ctx);
    const jwksBefore = ctx.issuer.requests.jwks;
    const reply = await app.request(path, headers);
    if (attack.noKeyFetch === true) {
      expect(ctx.issuer.requests.jwks, "the trusted JWKS was fetched").toBe(jwksBefore);
    }
    expect(ctx.attacker.requests.total, "the attacker's server was contacted").toBe(0);
    attack.verify?.(ctx, reply);
    return reply;
  } finally {
    await app.close();
    await fresh?.close();
  }
}

function expectedChallenge(attack: AttackCase): string | RegExp | undefined {
  const { status, error, description, scope } = attack.expect;
  if (error === null) return status === 401 ? BARE_CHALLENGE : undefined;
  if (description === undefined) {
    return new RegExp(`^Bearer ${REALM}, error="${error}", error_description="[^"]*"`);
  }
  const scopeAttribute = scope === undefined ? "" : `, scope="${scope}"`;
  return `Bearer ${REALM}, error="${error}", error_description="${description}"${scopeAttribute}`;
}

describe.each(socketHarnesses)("$name withstands", (harness) => {
  it.each(attacks)("$name", async (attack) => {
    const reply = await runAttack(harness, attack);
    const { expect: expected } = attack;
    expectNoStackTrace(reply.body);
    expect({ status: reply.status, body: reply.body }).toMatchObject({ status: expected.status });

    const challenge = expectedChallenge(attack);
    if (challenge instanceof RegExp) expect(reply.headers["www-authenticate"]).toMatch(challenge);
    else expect(reply.headers["www-authenticate"]).toBe(challenge);

    if (expected.status === 431) return; // Node's own answer: no body, no meishi headers.
    expect(reply.headers["content-type"]).toMatch(/^application\/json/);
    if (expected.status === 200) {
      expect(reply.body).toMatchObject({ auth: expected.auth ?? {} });
    } else if (expected.error === null) {
      expect(reply.body).toEqual({
        error: "missing_token",
        error_description: "Authentication is required",
      });
    } else {
      expect(reply.body).toMatchObject({ error: expected.error });
      if (expected.description !== undefined) {
        expect(reply.body).toEqual({
          error: expected.error,
          error_description: expected.description,
        });
      }
    }
  });
});

describe("the catalog", () => {
  it("has at least 60 attacks with unique names", () => {
    expect(attacks.length).toBeGreaterThanOrEqual(60);
    expect(new Set(attacks.map((attack) => attack.name)).size).toBe(attacks.length);
  });
});
