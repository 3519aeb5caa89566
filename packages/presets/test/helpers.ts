import type { RefusalDetails, RejectReason, VerifierOptions } from "@meishi/core";
import { createTestIssuer, type TestAlgorithm, type TestIssuer } from "@meishi/testing";
import { expect } from "vitest";
import type { App } from "./adapters.js";

/** A local issuer whose tokens carry a provider's `iss`; its JWKS serves in place of the provider's. */
export function providerIssuer(
  issuer: string,
  algorithms: TestAlgorithm[] = ["RS256"],
): Promise<TestIssuer> {
  // No default `aud`: each provider's tokens set their own (Cognito access tokens have none).
  return createTestIssuer({
    issuer,
    algorithms,
    defaultClaims: { aud: undefined, jti: undefined },
  });
}

/** The preset's options with the developer log turned off, so refusals don't flood the output. */
export function quiet<Options extends VerifierOptions>(options: Options): Options {
  return { ...options, logger: false };
}

/** Every adapter answers `path` with `status` for `token`; returns the replies' bodies. */
export async function expectEvery(
  apps: readonly App[],
  token: string | undefined,
  status: number,
  path: "/me" | "/guarded" = "/me",
): Promise<unknown[]> {
  const replies = await Promise.all(apps.map((app) => app.get(path, token)));
  expect(replies.map((reply) => [reply.status])).toEqual(apps.map(() => [status]));
  for (const reply of replies) {
    if (status === 401) expect(reply.wwwAuthenticate).toMatch(/^Bearer realm="api"/);
    if (status === 403) expect(reply.wwwAuthenticate).toContain('error="insufficient_scope"');
  }
  return replies.map((reply) => reply.body);
}

/**
 * Every adapter refuses `token` with 401 `invalid_token`, and its verifier reports exactly one
 * refusal for it, with this `reason` and (when given) these `details`.
 */
export async function expectRefusal(
  apps: readonly App[],
  token: string,
  reason: RejectReason,
  details?: RefusalDetails,
): Promise<void> {
  const before = apps.map((app) => app.refusals.length);
  const replies = await Promise.all(apps.map((app) => app.get("/me", token)));
  apps.forEach((app, index) => {
    const reply = replies[index]!;
    expect({ adapter: app.adapter, status: reply.status }).toEqual({
      adapter: app.adapter,
      status: 401,
    });
    expect(reply.wwwAuthenticate).toMatch(/^Bearer realm="api", error="invalid_token"/);
    expect({ adapter: app.adapter, refusals: app.refusals.slice(before[index]) }).toEqual({
      adapter: app.adapter,
      refusals: [details === undefined ? expect.objectContaining({ reason }) : { reason, details }],
    });
  });
}

/**
 * Every adapter refuses `token` with 401 `invalid_token`, reason `claim_invalid`, on the claim
 * `check` expecting `expected` (one value, or the list of any-of). The details name only the
 * expectation, never the token's value (claims are personal data).
 */
export function expectClaimInvalid(
  apps: readonly App[],
  token: string,
  check: string,
  expected: unknown,
): Promise<void> {
  return expectRefusal(apps, token, "claim_invalid", {
    check,
    expected,
    message: expect.stringContaining(`claim "${check}" must be`),
  });
}

/** The identity every adapter attached, which must be the same for all three. */
export async function identityEverywhere(
  apps: readonly App[],
  token: string,
): Promise<{ sub: string; issuer: string; roles: string[]; scopes: string[] }> {
  const bodies = (await expectEvery(apps, token, 200)) as {
    auth: { sub: string; issuer: string; roles: string[]; scopes: string[] };
  }[];
  for (const body of bodies) expect(body).toEqual(bodies[0]);
  return bodies[0]!.auth;
}
