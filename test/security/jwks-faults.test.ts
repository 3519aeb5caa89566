import type { VerifierOptions } from "@meishi/core";
import { createTestIssuer, type FaultSpec, type TestIssuer } from "@meishi/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { HarnessApp, HarnessReply } from "../conformance/harness.js";
import {
  b64url,
  bearer,
  expectWellFormedRefusal,
  guardProcess,
  socketHarnesses,
} from "./support.js";

guardProcess();

/** The JWKS fetch deadline for this file: far below the slow fault, so a 503 comes fast. */
const TIMEOUT_MS = 300;

let issuer: TestIssuer;
/** The origin a redirect points at. Nothing may ever fetch from it. */
let attacker: TestIssuer;

beforeAll(async () => {
  [issuer, attacker] = await Promise.all([
    createTestIssuer({ algorithms: ["ES256"] }),
    createTestIssuer({ algorithms: ["ES256"] }),
  ]);
});

afterAll(async () => {
  const attackerRequests = attacker.requests.total;
  await Promise.all([issuer.close(), attacker.close()]);
  expect(attackerRequests).toBe(0);
});

interface FaultCase {
  name: string;
  fault: () => FaultSpec;
}

const faults: FaultCase[] = [
  { name: "slow beyond the timeout", fault: () => ({ kind: "slow", delayMs: 2_000 }) },
  { name: "hanging", fault: () => ({ kind: "hang" }) },
  { name: "HTTP 500", fault: () => ({ kind: "status", status: 500 }) },
  { name: "HTTP 404", fault: () => ({ kind: "status", status: 404 }) },
  { name: "HTTP 429", fault: () => ({ kind: "status", status: 429 }) },
  { name: "an HTML login page", fault: () => ({ kind: "html" }) },
  { name: "invalid JSON", fault: () => ({ kind: "invalid-json" }) },
  { name: "JSON that is not a JWKS", fault: () => ({ kind: "not-jwks" }) },
  { name: 'a "keys" member that is not an array', fault: () => body({ keys: { 0: {} } }) },
  { name: "keys with bad parameters", fault: () => ({ kind: "bad-keys" }) },
  {
    name: "only keys that cannot verify (enc, oct, 1024-bit RSA)",
    fault: () =>
      body({
        keys: [
          { ...issuer.keys[0]!.publicJwk, use: "enc" },
          { kty: "oct", kid: "shared", k: b64url("s3cret") },
          { kty: "RSA", kid: "weak", e: "AQAB", n: b64url(new Uint8Array(128).fill(0xff)) },
        ],
      }),
  },
  {
    name: "more keys than the cap",
    fault: () => body({ keys: Array.from({ length: 101 }, () => issuer.keys[0]!.publicJwk) }),
  },
  { name: "a 10 MiB body", fault: () => ({ kind: "huge", bytes: 10 * 1024 * 1024 }) },
  {
    name: "a redirect to another origin",
    fault: () => ({ kind: "redirect", location: attacker.jwksUri }),
  },
  {
    name: "a 307 redirect to another origin",
    fault: () => ({ kind: "redirect", location: attacker.jwksUri, status: 307 }),
  },
  { name: "a connection reset mid-body", fault: () => ({ kind: "reset-mid-body" }) },
  { name: "a connection closed without an answer", fault: () => ({ kind: "close" }) },
];

function body(json: unknown): FaultSpec {
  return { kind: "body", body: JSON.stringify(json) };
}

const options = (): VerifierOptions => ({
  jwksUri: issuer.jwksUri,
  issuer: issuer.issuer,
  audience: issuer.audience,
  keySource: { timeoutMs: TIMEOUT_MS },
});

function expectUnavailable(reply: HarnessReply): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(503);
  expect(reply.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
  expect(reply.headers["www-authenticate"]).toBeUndefined();
  expect(reply.body).toEqual({
    error: "temporarily_unavailable",
    error_description: "The service cannot verify tokens right now",
  });
  expectWellFormedRefusal(reply);
}

async function expectOk(app: HarnessApp, sub: string): Promise<void> {
  const reply = await app.request("/me", bearer(await issuer.sign({ sub })));
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body).toMatchObject({ auth: { sub } });
}

const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

describe.each(socketHarnesses)("$name with a failing JWKS endpoint", (harness) => {
  let app: HarnessApp;

  beforeEach(async () => {
    // Only Date is faked: the fetch deadline and the sockets run on real timers.
    vi.useFakeTimers({ toFake: ["Date"] });
    app = await harness.start(options());
  });

  afterEach(async () => {
    issuer.setFault(null);
    await app.close();
    vi.useRealTimers();
  });

  it.each(faults)("cold cache, $name: 503 with Retry-After, then recovery", async ({ fault }) => {
    issuer.setFault(fault(), { endpoint: "jwks" });
    expectUnavailable(await app.request("/me", bearer(await issuer.sign())));

    // Within the backoff, answered at once without hammering the endpoint.
    const fetches = issuer.requests.jwks;
    expectUnavailable(await app.request("/orders", bearer(await issuer.sign())));
    expect(issuer.requests.jwks).toBe(fetches);

    // The endpoint recovers; once the 1 s backoff has passed, so does the API.
    issuer.setFault(null);
    advance(2_000);
    await expectOk(app, "recovered");
  });

  it.each(faults)("warm cache, $name: keeps verifying with the cached keys", async ({ fault }) => {
    await expectOk(app, "warm");
    const fetches = issuer.requests.jwks;
    issuer.setFault(fault(), { endpoint: "jwks" });

    // Past 75 % of the 10 min max age: a background refresh fails, requests don't notice.
    advance(8 * 60_000);
    await expectOk(app, "refresh-ahead");

    // Past the max age: the refetch fails and the stale keys keep serving.
    advance(3 * 60_000);
    await expectOk(app, "stale");
    await expectOk(app, "still stale");
    expect(issuer.requests.jwks).toBeGreaterThan(fetches);
  });
});

interface DiscoveryCase {
  name: string;
  overrides: () => Record<string, unknown>;
}

const discoveryFaults: DiscoveryCase[] = [
  {
    name: "a discovery document naming another issuer",
    overrides: () => ({ issuer: attacker.issuer, jwks_uri: attacker.jwksUri }),
  },
  {
    name: "a discovery document whose jwks_uri is plain http off loopback",
    overrides: () => ({ jwks_uri: "http://jwks.example.com/.well-known/jwks.json" }),
  },
  { name: "a discovery document without jwks_uri", overrides: () => ({ jwks_uri: undefined }) },
];

describe.each(socketHarnesses)("$name with a lying discovery document", (harness) => {
  let app: HarnessApp;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    // A single issuer string and no jwksUri: the keys are found through OIDC discovery.
    app = await harness.start({
      issuer: issuer.issuer,
      audience: issuer.audience,
      keySource: { timeoutMs: TIMEOUT_MS },
    });
  });

  afterEach(async () => {
    issuer.setDiscovery(null);
    await app.close();
    vi.useRealTimers();
  });

  it.each(discoveryFaults)("$name: 503, no key fetched, then recovery", async ({ overrides }) => {
    issuer.setDiscovery(overrides());
    const fetches = issuer.requests.jwks;
    expectUnavailable(await app.request("/me", bearer(await issuer.sign())));
    expect(issuer.requests.jwks).toBe(fetches);

    issuer.setDiscovery(null);
    advance(2_000);
    await expectOk(app, "discovered");
  });
});
