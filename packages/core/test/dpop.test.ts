import {
  createDpopClient,
  createTestIssuer,
  type DpopClient,
  type TestIssuer,
} from "@meishi/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  accessTokenHash,
  ConfigurationError,
  createMemoryNonceSource,
  createMemoryReplayStore,
  createVerifier,
  DPOP_DEFAULTS,
  type DpopOptions,
  DpopProofError,
  type DpopReplayStore,
  type Identity,
  isAuthError,
  type MeishiEvent,
  normalizeHtu,
  type TokenRequest,
  type Verifier,
  type VerifierOptions,
  verifyDpopProof,
} from "../src/index.js";

const ORIGIN = "https://api.example.test";

let issuer: TestIssuer;
let client: DpopClient;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ["ES256"] });
  client = await createDpopClient();
});

afterAll(async () => {
  await issuer.close();
});

afterEach(() => {
  vi.useRealTimers();
});

function verifierWith(dpop: DpopOptions, extra: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    logger: false,
    dpop: { publicOrigin: ORIGIN, ...dpop },
    ...extra,
  } as VerifierOptions);
}

async function dpopRequest(
  options: Parameters<DpopClient["proof"]>[2] = {},
  token?: string,
): Promise<TokenRequest> {
  const accessToken = token ?? (await issuer.sign({ cnf: { jkt: client.jkt } }));
  const proof = await client.proof("GET", `${ORIGIN}/me`, { accessToken, ...options });
  return {
    headers: { authorization: `DPoP ${accessToken}`, dpop: proof },
    url: "/me",
    method: "GET",
  };
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isAuthError(error)) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("DPoP defaults", () => {
  it("are the documented ones", () => {
    expect(DPOP_DEFAULTS).toEqual({
      proofMaxAgeSec: 60,
      clockToleranceSec: 5,
      replayCacheMax: 100_000,
      storeTimeoutMs: 1_000,
      nonceLifetimeSec: 300,
      maxProofBytes: 8 * 1024,
      maxJtiLength: 256,
    });
  });

  it("accept a proof 55 s old and refuse one 65 s old (60 s window)", async () => {
    const verifier = verifierWith({});
    await expect(
      verifier.authenticate(await dpopRequest({ iatOffsetSec: -55 })),
    ).resolves.toMatchObject({
      sub: "user-123",
    });
    const error = await refusal(verifier.authenticate(await dpopRequest({ iatOffsetSec: -65 })));
    expect(error.description).toBe("The DPoP proof is too old");
  });

  it("accept a proof 4 s in the future and refuse one 8 s ahead (5 s tolerance)", async () => {
    const verifier = verifierWith({});
    await expect(
      verifier.authenticate(await dpopRequest({ iatOffsetSec: 4 })),
    ).resolves.toBeDefined();
    const error = await refusal(verifier.authenticate(await dpopRequest({ iatOffsetSec: 8 })));
    expect(error.description).toBe("The DPoP proof is issued in the future");
  });

  it("keep 100 000 jtis in memory, then forget the oldest", async () => {
    const store = createMemoryReplayStore();
    const expires = Date.now() / 1000 + 60;
    expect(await store.seen("first", expires)).toBe(false);
    for (let i = 0; i < 99_999; i++) await store.seen(`jti-${i}`, expires);
    await store.seen("one-more", expires);
    expect(await store.seen("jti-0", expires)).toBe(true);
    expect(await store.seen("first", expires)).toBe(false);
  });

  it("forget a jti once its proof window has passed", () => {
    vi.useFakeTimers();
    const store = createMemoryReplayStore({ max: 10 });
    const expires = Date.now() / 1000 + 65;
    expect(store.seen("k:j", expires)).toBe(false);
    vi.advanceTimersByTime(64_000);
    expect(store.seen("k:j", expires)).toBe(true);
    vi.advanceTimersByTime(2_000);
    expect(store.seen("k:j", expires)).toBe(false);
  });

  it("rotate in-memory nonces every 300 s and accept the previous one for one more lifetime", () => {
    vi.useFakeTimers();
    const nonces = createMemoryNonceSource();
    const first = nonces.current() as string;
    vi.advanceTimersByTime(299_000);
    expect(nonces.current()).toBe(first);
    vi.advanceTimersByTime(1_000);
    const second = nonces.current() as string;
    expect(second).not.toBe(first);
    expect(nonces.isValid(first)).toBe(true);
    vi.advanceTimersByTime(300_000);
    expect(nonces.isValid(second)).toBe(true);
    expect(nonces.isValid(first)).toBe(false);
  });

  it("answer 503 when the replay store gives no answer within 1000 ms", async () => {
    const never: DpopReplayStore = { seen: () => new Promise<boolean>(() => {}) };
    const verifier = verifierWith({ replayStore: never });
    const error = await refusal(verifier.authenticate(await dpopRequest()));
    expect(error.status).toBe(503);
    expect(error.reason).toBe("dpop_replay_unavailable");
  });
});

describe("the replay store", () => {
  it("is asked with the key thumbprint and jti, until the end of the proof window", async () => {
    const calls: [string, number][] = [];
    const store: DpopReplayStore = {
      seen: async (jti, expiresAtSec) => {
        calls.push([jti, expiresAtSec]);
        return false;
      },
    };
    const verifier = verifierWith({ replayStore: store });
    await verifier.authenticate(await dpopRequest({ jti: "proof-1" }));
    const now = Math.floor(Date.now() / 1000);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toBe(`${client.jkt}:proof-1`);
    expect(calls[0]?.[1]).toBeGreaterThanOrEqual(now + 60 + 5 - 2);
    expect(calls[0]?.[1]).toBeLessThanOrEqual(now + 60 + 5 + 1);
  });

  it("refuses a proof the store has seen, and answers 503 when the store throws", async () => {
    const seen = verifierWith({ replayStore: { seen: () => true } });
    expect((await refusal(seen.authenticate(await dpopRequest()))).reason).toBe(
      "dpop_proof_replayed",
    );
    const broken = verifierWith({
      replayStore: {
        seen: () => {
          throw new Error("down");
        },
      },
    });
    const error = await refusal(broken.authenticate(await dpopRequest()));
    expect(error.status).toBe(503);
    expect(error.headers["Retry-After"]).toBe("5");
  });

  it("is not consulted for a proof that fails another check", async () => {
    let asked = 0;
    const verifier = verifierWith({
      replayStore: {
        seen: () => {
          asked++;
          return false;
        },
      },
    });
    await refusal(verifier.authenticate(await dpopRequest({ accessToken: "other" })));
    const unbound = await issuer.sign();
    await refusal(verifier.authenticate(await dpopRequest({}, unbound)));
    expect(asked).toBe(0);
  });
});

describe("the dpop option", () => {
  const base = () => ({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
  });

  it("needs a public origin, never guessing one", () => {
    expect(() => createVerifier({ ...base(), dpop: {} })).toThrow(ConfigurationError);
    expect(() => createVerifier({ ...base(), dpop: {} })).toThrow(/publicOrigin/);
  });

  it("takes the origin of resourceMetadata.resource", async () => {
    const verifier = createVerifier({
      ...base(),
      logger: false,
      dpop: {},
      resourceMetadata: { resource: `${ORIGIN}/`, authorizationServers: [issuer.issuer] },
    });
    await expect(verifier.authenticate(await dpopRequest())).resolves.toBeDefined();
  });

  it("refuses an origin with a path, unknown names, bad modes and symmetric algorithms", () => {
    const bad: unknown[] = [
      { publicOrigin: "https://api.example.test/v1" },
      { publicOrigin: "ftp://api.example.test" },
      { publicOrigin: ORIGIN, proofAge: 10 },
      { publicOrigin: ORIGIN, mode: "optional" },
      { publicOrigin: ORIGIN, algorithms: ["HS256"] },
      { publicOrigin: ORIGIN, nonce: "yes" },
      { publicOrigin: ORIGIN, replayStore: {} },
      { publicOrigin: ORIGIN, proofMaxAgeSec: 0 },
    ];
    for (const dpop of bad) {
      expect(
        () => createVerifier({ ...base(), dpop: dpop as DpopOptions }),
        JSON.stringify(dpop),
      ).toThrow(ConfigurationError);
    }
  });

  it("reads the Host header only with allowInsecureHostHeader", async () => {
    const verifier = verifierWith({
      publicOrigin: undefined as unknown as string,
      allowInsecureHostHeader: true,
    });
    const token = await issuer.sign({ cnf: { jkt: client.jkt } });
    const proof = await client.proof("GET", "http://localhost:3000/me", { accessToken: token });
    const request = (host: string): TokenRequest => ({
      headers: { authorization: `DPoP ${token}`, dpop: proof, host },
      url: "/me",
      method: "GET",
    });
    await expect(verifier.authenticate(request("localhost:3000"))).resolves.toBeDefined();
    const error = await refusal(verifier.authenticate(request("localhost:3000/evil")));
    expect(error.description).toBe("The DPoP proof is for another URL");
  });

  it("disabled (the default) leaves the DPoP scheme unread and the challenge as it was", async () => {
    const verifier = createVerifier({ ...base(), logger: false });
    const error = await refusal(verifier.authenticate(await dpopRequest()));
    expect(error.code).toBe("missing_token");
    expect(error.headers["WWW-Authenticate"]).toBe('Bearer realm="api"');
  });

  it("reports DPoP refusals as token_rejected events with their reason", async () => {
    const events: MeishiEvent[] = [];
    const verifier = verifierWith({}, { onEvent: (event) => events.push(event) });
    await refusal(verifier.authenticate(await dpopRequest({ accessToken: "other" })));
    expect(events.filter((event) => event.type === "token_rejected")).toMatchObject([
      { reason: "dpop_proof_invalid", status: 401 },
    ]);
  });

  it("sends the current nonce through setHeader after a request passes", async () => {
    const verifier = verifierWith({ nonce: createMemoryNonceSource() });
    const first = await refusal(verifier.authenticate(await dpopRequest()));
    const nonce = first.headers["DPoP-Nonce"];
    expect(first.code).toBe("use_dpop_nonce");
    expect(nonce).toMatch(/^[\w-]{32}$/);
    const headers: Record<string, string> = {};
    const identity: Identity = await verifier.authenticate(
      await dpopRequest({ nonce: nonce ?? "" }),
      {
        setHeader: (name, value) => {
          headers[name] = value;
        },
      },
    );
    expect(identity.sub).toBe("user-123");
    expect(headers).toEqual({ "DPoP-Nonce": nonce });
  });
});

describe("verifyDpopProof (for token endpoints)", () => {
  it("returns the key thumbprint of a proof without an access token", async () => {
    const proof = await client.proof("POST", "https://auth.example.test/token");
    const verified = await verifyDpopProof(proof, {
      method: "POST",
      url: "https://auth.example.test/token?x=1",
    });
    expect(verified.jkt).toBe(client.jkt);
    expect(verified.jwk).toEqual(client.publicJwk);
  });

  it("requires ath when an access token is given, and checks it", async () => {
    const token = "a.b.c";
    const withoutAth = await client.proof("GET", `${ORIGIN}/me`);
    await expect(
      verifyDpopProof(withoutAth, { method: "GET", url: `${ORIGIN}/me`, accessToken: token }),
    ).rejects.toThrow(DpopProofError);
    const withAth = await client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
    const claims = JSON.parse(Buffer.from(withAth.split(".")[1] ?? "", "base64url").toString());
    expect(claims.ath).toBe(await accessTokenHash(token));
  });
});

describe("normalizeHtu", () => {
  it("normalises per RFC 3986 §6.2.2-6.2.3 and drops query and fragment", () => {
    expect(normalizeHtu("HTTPS://Api.Example.TEST:443/a/./b/../%7euser%2f?q#f")).toBe(
      "https://api.example.test/a/~user%2F",
    );
    expect(normalizeHtu("http://api.example.test:80/")).toBe("http://api.example.test/");
    expect(normalizeHtu("https://user:pw@api.example.test/")).toBeUndefined();
    expect(normalizeHtu("javascript:alert(1)")).toBeUndefined();
    expect(normalizeHtu("/relative")).toBeUndefined();
  });
});
