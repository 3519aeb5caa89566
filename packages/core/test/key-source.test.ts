import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createVerifier,
  type InvalidTokenError,
  type MeishiEvent,
  ServiceUnavailableError,
  type SingleIssuerOptions,
  type Verifier,
} from "../src/index.node.js";

const issuers: TestIssuer[] = [];

async function startIssuer(
  options: Parameters<typeof createTestIssuer>[0] = {},
): Promise<TestIssuer> {
  const issuer = await createTestIssuer(options);
  issuers.push(issuer);
  return issuer;
}

function verifierFor(
  issuer: TestIssuer,
  extra: Partial<SingleIssuerOptions> = {},
  events: MeishiEvent[] = [],
): Verifier {
  return createVerifier({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    verifiedTokenCache: false,
    onEvent: (event) => events.push(event),
    ...extra,
  });
}

async function outcome(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as InvalidTokenError).status;
  }
}

function randomKidToken(token: string, kid: string): string {
  const [header, payload, signature] = token.split(".");
  const decoded = JSON.parse(Buffer.from(header!, "base64url").toString());
  const forged = Buffer.from(JSON.stringify({ ...decoded, kid })).toString("base64url");
  return `${forged}.${payload}.${signature}`;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(issuers.splice(0).map((issuer) => issuer.close()));
});

describe("remote key source", () => {
  it("makes exactly one JWKS request for 200 concurrent verifications on a cold cache", async () => {
    const issuer = await startIssuer();
    const verifier = verifierFor(issuer);
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) => issuer.sign({ sub: `u${i}` })),
    );
    const identities = await Promise.all(tokens.map((token) => verifier.verify(token)));
    expect(identities.map((identity) => identity.sub)).toEqual(tokens.map((_, i) => `u${i}`));
    expect(issuer.requests.jwks).toBe(1);
  });

  it("makes at most one refetch per cooldown for 1,000 random unknown kids, and answers each 401", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const issuer = await startIssuer();
    const events: MeishiEvent[] = [];
    const verifier = verifierFor(issuer, {}, events);
    const token = await issuer.sign();
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(1);
    const forged = Array.from({ length: 1000 }, (_, i) => randomKidToken(token, `junk-${i}`));
    const statuses = await Promise.all(forged.map((t) => outcome(verifier.verify(t))));
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(issuer.requests.jwks).toBe(2);
    // Sequential misses inside the cooldown fetch nothing more.
    for (const t of forged.slice(0, 50).map((_, i) => randomKidToken(token, `more-${i}`))) {
      expect(await outcome(verifier.verify(t))).toBe(401);
    }
    expect(issuer.requests.jwks).toBe(2);
    vi.setSystemTime(Date.now() + 31_000);
    expect(await outcome(verifier.verify(randomKidToken(token, "after-cooldown")))).toBe(401);
    expect(issuer.requests.jwks).toBe(3);
    expect(events.some((event) => event.type === "kid_miss" && !event.refetched)).toBe(true);
  });

  it("picks up a rotated key at once when no refetch happened recently", async () => {
    const issuer = await startIssuer();
    const events: MeishiEvent[] = [];
    const verifier = verifierFor(issuer, {}, events);
    await verifier.verify(await issuer.sign());
    await issuer.rotate();
    expect((await verifier.verify(await issuer.sign())).sub).toBe("user-123");
    expect(issuer.requests.jwks).toBe(2);
    expect(events.find((event) => event.type === "key_rotation_seen")).toMatchObject({
      removed: [],
    });
  });

  it("lets a genuine rotation through during a flood of junk kids, on its second sighting", async () => {
    const issuer = await startIssuer();
    const verifier = verifierFor(issuer);
    const token = await issuer.sign();
    await verifier.verify(token);
    expect(await outcome(verifier.verify(randomKidToken(token, "junk")))).toBe(401);
    await issuer.rotate();
    const rotated = await issuer.sign();
    expect(await outcome(verifier.verify(rotated))).toBe(401);
    expect(await outcome(verifier.verify(rotated))).toBe(200);
    // The budget is spent: a junk kid seen twice now costs nothing.
    const junk = randomKidToken(token, "junk-2");
    await outcome(verifier.verify(junk));
    const before = issuer.requests.jwks;
    expect(await outcome(verifier.verify(junk))).toBe(401);
    expect(issuer.requests.jwks).toBe(before);
  });

  it("keeps serving cached keys when the JWKS server goes down after warm-up", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const issuer = await startIssuer();
    const events: MeishiEvent[] = [];
    const verifier = verifierFor(issuer, {}, events);
    await verifier.verify(await issuer.sign());
    issuer.setFault({ kind: "status", status: 500 });
    vi.setSystemTime(Date.now() + 11 * 60_000);
    expect((await verifier.verify(await issuer.sign())).sub).toBe("user-123");
    expect(events.some((event) => event.type === "jwks_fetch_failed" && event.servingStale)).toBe(
      true,
    );
    expect(events.some((event) => event.type === "jwks_stale_served")).toBe(true);
    // Backoff: the next request inside the backoff does not refetch.
    const requests = issuer.requests.jwks;
    await verifier.verify(await issuer.sign());
    expect(issuer.requests.jwks).toBe(requests);
  });

  it("fails closed with 503 once the stale limit is passed, and recovers with the endpoint", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const issuer = await startIssuer();
    const verifier = verifierFor(issuer, { keySource: { maxStaleMs: 60_000 } });
    await verifier.verify(await issuer.sign());
    issuer.setFault({ kind: "status", status: 500 });
    vi.setSystemTime(Date.now() + 10 * 60_000 + 61_000);
    const error = await verifier.verify(await issuer.sign()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).headers["Retry-After"]).toMatch(/^\d+$/);
    issuer.setFault(null);
    vi.setSystemTime(Date.now() + 2_000);
    expect(await outcome(verifier.verify(await issuer.sign()))).toBe(200);
  });

  it("answers 503, not 401, on a cold cache with the endpoint down, within the timeout", async () => {
    const issuer = await startIssuer();
    issuer.setFault({ kind: "hang" });
    const verifier = verifierFor(issuer, { keySource: { timeoutMs: 300 } });
    const error = await verifier.verify(await issuer.sign()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).status).toBe(503);
  });

  it.each([
    ["500", { kind: "status", status: 500 }],
    ["404", { kind: "status", status: 404 }],
    ["HTML", { kind: "html" }],
    ["invalid JSON", { kind: "invalid-json" }],
    ["not a JWKS", { kind: "not-jwks" }],
    ["broken keys", { kind: "bad-keys" }],
    ["a 2 MiB body", { kind: "huge", bytes: 2 * 1024 * 1024 }],
    [
      "a redirect to another origin",
      { kind: "redirect", location: "http://localhost:1/jwks.json" },
    ],
    ["a closed connection", { kind: "close" }],
    ["a reset mid-body", { kind: "reset-mid-body" }],
  ] as const)("treats %s as unavailable: 503 cold, cached keys warm", async (_name, fault) => {
    const issuer = await startIssuer();
    const events: MeishiEvent[] = [];
    issuer.setFault(fault);
    const cold = verifierFor(issuer, {}, events);
    const token = await issuer.sign();
    expect(await outcome(cold.verify(token))).toBe(503);
    expect(events.find((event) => event.type === "jwks_fetch_failed")).toMatchObject({
      servingStale: false,
    });
    issuer.setFault(null);
    const warm = verifierFor(issuer, { keySource: { maxAgeMs: 0 } });
    await warm.verify(token);
    issuer.setFault(fault);
    expect(await outcome(warm.verify(token))).toBe(200);
  });

  it("answers an unknown kid with 401, not 503, when its refetch fails but keys are cached", async () => {
    const issuer = await startIssuer();
    const verifier = verifierFor(issuer);
    const token = await issuer.sign();
    await verifier.verify(token);
    issuer.setFault({ kind: "status", status: 500 });
    expect(await outcome(verifier.verify(randomKidToken(token, "unknown")))).toBe(401);
    expect(issuer.requests.jwks).toBe(2);
    expect(await outcome(verifier.verify(token))).toBe(200);
  });

  it("follows a same-origin redirect", async () => {
    const issuer = await startIssuer();
    issuer.setFault({ kind: "redirect", location: "/.well-known/jwks.json" }, { times: 1 });
    expect(await outcome(verifierFor(issuer).verify(await issuer.sign()))).toBe(200);
  });

  it("caps the number of keys in a set", async () => {
    const issuer = await startIssuer();
    const verifier = verifierFor(issuer, { keySource: { maxKeys: 1 } });
    await issuer.addKey("ES256");
    expect(await outcome(verifier.verify(await issuer.sign()))).toBe(503);
  });

  it("honours Cache-Control max-age within bounds and refreshes ahead of expiry", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const issuer = await startIssuer({ cacheControl: "public, max-age=60" });
    const verifier = verifierFor(issuer);
    await verifier.verify(await issuer.sign());
    vi.setSystemTime(Date.now() + 30_000);
    await verifier.verify(await issuer.sign());
    expect(issuer.requests.jwks).toBe(1);
    vi.setSystemTime(Date.now() + 20_000);
    // Past 75% of max age: the request is answered from the current keys while a refresh runs.
    await verifier.verify(await issuer.sign());
    await vi.waitFor(() => expect(issuer.requests.jwks).toBe(2));
  });

  it("clamps a tiny max-age to 5 seconds", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const issuer = await startIssuer({ cacheControl: "max-age=0" });
    const verifier = verifierFor(issuer);
    await verifier.verify(await issuer.sign());
    vi.setSystemTime(Date.now() + 2_000);
    await verifier.verify(await issuer.sign());
    expect(issuer.requests.jwks).toBe(1);
  });

  it("drops a removed key on refresh, even for a token verified before", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const issuer = await startIssuer();
    const verifier = createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
    });
    const token = await issuer.sign({}, { expiresInSec: 3600 });
    await verifier.verify(token);
    await issuer.rotate({ retireOld: true });
    vi.setSystemTime(Date.now() + 11 * 60_000);
    expect(await outcome(verifier.verify(token))).toBe(401);
  });

  it("prewarms with ready()", async () => {
    const issuer = await startIssuer();
    const verifier = verifierFor(issuer);
    await verifier.ready();
    expect(issuer.requests.jwks).toBe(1);
    await verifier.verify(await issuer.sign());
    expect(issuer.requests.jwks).toBe(1);
  });
});

describe("OIDC discovery", () => {
  it("finds the JWKS from the issuer alone", async () => {
    const issuer = await startIssuer();
    const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience });
    expect(await outcome(verifier.verify(await issuer.sign()))).toBe(200);
    expect(issuer.requests.discovery).toBe(1);
  });

  it("refuses a discovery document that names another issuer", async () => {
    const issuer = await startIssuer();
    issuer.setDiscovery({ issuer: "https://evil.example" });
    const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience });
    expect(await outcome(verifier.verify(await issuer.sign()))).toBe(503);
    expect(issuer.requests.jwks).toBe(0);
  });
});

describe("several issuers", () => {
  it("routes by iss among the allow-list and never fetches for an unknown issuer", async () => {
    const a = await startIssuer();
    const b = await startIssuer({ algorithms: ["ES256"], audience: "https://b.api" });
    const stranger = await startIssuer();
    const verifier = createVerifier({
      issuers: [
        { issuer: a.issuer, jwksUri: a.jwksUri, audience: a.audience },
        { issuer: b.issuer, jwksUri: b.jwksUri, audience: "https://b.api", rolesClaim: "groups" },
      ],
    });
    expect((await verifier.verify(await a.sign({ sub: "from-a" }))).sub).toBe("from-a");
    expect((await verifier.verify(await b.sign({ groups: ["g"] }))).roles).toEqual(["g"]);
    expect(await outcome(verifier.verify(await stranger.sign()))).toBe(401);
    expect(stranger.requests.total).toBe(0);
    // A token that claims issuer b but is signed by a is refused.
    expect(
      await outcome(verifier.verify(await a.sign({ iss: b.issuer, aud: "https://b.api" }))),
    ).toBe(401);
  });
});
