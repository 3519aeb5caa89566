import type { VerifierOptions } from "@meishi/core";
import {
  createDpopClient,
  type DpopClient,
  generateTestKey,
  signHmacToken,
  type TestIssuer,
} from "@meishi/testing";
import type { ConformancePath } from "./cases.js";
import type { HarnessApp, HarnessReply } from "./harness.js";

/**
 * DPoP (RFC 9449), protected-resource metadata links (RFC 9728) and step-up (RFC 9470): every
 * check of RFC 9449 §4.3 and §7 as a case, with real proofs made by a real client key, run
 * against every adapter by dpop.test.ts.
 */

/** The public origin every app is configured with; proofs name it in `htu`. */
export const ORIGIN = "https://api.example.test";
/** The proof algorithms every app accepts, as the challenge's `algs` lists them. */
export const DPOP_ALGS = ["ES256", "EdDSA", "PS256"] as const;
const ALGS = DPOP_ALGS.join(" ");
const REALM = 'realm="api"';
export const METADATA_URL = `${ORIGIN}/.well-known/oauth-protected-resource`;

export interface DpopContext {
  issuer: TestIssuer;
  /** The token holder's client (ES256). */
  client: DpopClient;
  /** Another client with its own key: the thief who copied the holder's token. */
  thief: DpopClient;
}

export interface DpopExpectation {
  status: number;
  /** The exact `WWW-Authenticate` value; `null` means absent. */
  challenge: string | null;
  /** The exact error body, or for a success the fields of `body.auth` to match. */
  body?: Record<string, unknown>;
  /** A `DPoP-Nonce` response header must be sent (`true`) or must not (`false`). */
  nonce?: boolean;
}

export interface DpopCase {
  name: string;
  /** Where the behaviour is specified. */
  spec: string;
  /** Options beside `{ jwksUri, issuer, audience }`. Default {@link allowed}. */
  options?: Partial<VerifierOptions>;
  /** Sends the request(s); the last reply is checked. */
  send(ctx: DpopContext, app: HarnessApp): Promise<HarnessReply>;
  expect: DpopExpectation;
}

/** `allowed` mode with the test origin and algorithms. */
export const allowed: Partial<VerifierOptions> = {
  dpop: { mode: "allowed", publicOrigin: ORIGIN, algorithms: [...DPOP_ALGS] },
};
const required: Partial<VerifierOptions> = {
  dpop: { mode: "required", publicOrigin: ORIGIN, algorithms: [...DPOP_ALGS] },
};
const withNonce: Partial<VerifierOptions> = {
  dpop: { mode: "allowed", publicOrigin: ORIGIN, algorithms: [...DPOP_ALGS], nonce: true },
};
const withMetadata: Partial<VerifierOptions> = {
  ...allowed,
  resourceMetadata: { resource: ORIGIN, authorizationServers: ["https://auth.example.test"] },
};

function challenge(scheme: "Bearer" | "DPoP", attributes: string): string {
  return scheme === "DPoP" ? `DPoP ${attributes}, algs="${ALGS}"` : `Bearer ${attributes}`;
}

/** Both challenges of `allowed` mode, the error in the scheme the client used. */
function both(errorIn: "Bearer" | "DPoP", attributes: string): string {
  return errorIn === "DPoP"
    ? `Bearer ${REALM}, ${challenge("DPoP", attributes)}`
    : `Bearer ${attributes}, DPoP ${REALM}, algs="${ALGS}"`;
}

function invalidProof(description: string): DpopExpectation {
  return {
    status: 401,
    challenge: both(
      "DPoP",
      `${REALM}, error="invalid_dpop_proof", error_description="${description}"`,
    ),
    body: { error: "invalid_dpop_proof", error_description: description },
  };
}

function invalidToken(scheme: "Bearer" | "DPoP", description: string): DpopExpectation {
  return {
    status: 401,
    challenge: both(scheme, `${REALM}, error="invalid_token", error_description="${description}"`),
    body: { error: "invalid_token", error_description: description },
  };
}

function ok(auth: Record<string, unknown>, nonce?: boolean): DpopExpectation {
  return { status: 200, challenge: null, body: auth, ...(nonce === undefined ? {} : { nonce }) };
}

/** The headers of a DPoP request: `Authorization: DPoP <token>` and the proof. */
function dpopHeaders(token: string, proof: string): Record<string, string> {
  return { authorization: `DPoP ${token}`, dpop: proof };
}

/** A token bound to `holder`'s key. */
function boundToken(ctx: DpopContext, claims: Record<string, unknown> = {}, holder = ctx.client) {
  return ctx.issuer.sign({ sub: "holder", cnf: { jkt: holder.jkt }, ...claims });
}

/** One request by the holder with a proof shaped by `proofOptions`. */
function holderRequest(
  path: ConformancePath | "/acr" | `${ConformancePath}?${string}`,
  proofOptions: Parameters<DpopClient["proof"]>[2] = {},
  proofUrl = `${ORIGIN}${path}`,
  method = "GET",
) {
  return async (ctx: DpopContext, app: HarnessApp) => {
    const token = await boundToken(ctx);
    const proof = await ctx.client.proof(method, proofUrl, { accessToken: token, ...proofOptions });
    return app.request(path, dpopHeaders(token, proof));
  };
}

/** A proof made by hand: header and payload as given, signed by the client's key. */
function claimsWithout(name: string) {
  return holderRequest("/me", { claims: { [name]: undefined } });
}

async function expectStatus(reply: Promise<HarnessReply>, status: number): Promise<void> {
  const { status: actual, body } = await reply;
  if (actual !== status) {
    throw new Error(`setup expected ${status}, got ${actual}: ${JSON.stringify(body)}`);
  }
}

export const dpopCases: DpopCase[] = [
  // §7.1: the holder of the key passes.
  {
    name: "accepts a DPoP-bound token with a valid proof from its key",
    spec: "RFC 9449 §7.1",
    send: holderRequest("/me"),
    expect: ok({ sub: "holder" }),
  },
  {
    name: "accepts the DPoP scheme case-insensitively",
    spec: "RFC 9110 §11.1",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      return app.request("/me", { authorization: `dpop ${token}`, dpop: proof });
    },
    expect: ok({ sub: "holder" }),
  },
  ...(["EdDSA", "PS256"] as const).map(
    (alg): DpopCase => ({
      name: `accepts a ${alg} proof`,
      spec: "RFC 9449 §4.3 (5)",
      send: async (ctx, app) => {
        const client = await createDpopClient(alg);
        const token = await boundToken(ctx, {}, client);
        const proof = await client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
        return app.request("/me", dpopHeaders(token, proof));
      },
      expect: ok({ sub: "holder" }),
    }),
  ),
  {
    name: "compares htu without the query and fragment",
    spec: "RFC 9449 §4.3 (9)",
    send: holderRequest("/me?page=2", {}, `${ORIGIN}/me?other=1#frag`),
    expect: ok({ sub: "holder" }),
  },
  {
    name: "compares htu after syntax and scheme normalisation",
    spec: "RFC 9449 §4.3 (9), RFC 3986 §6.2.2-6.2.3",
    send: holderRequest("/me", {}, "HTTPS://API.Example.TEST:443/%6De"),
    expect: ok({ sub: "holder" }),
  },
  {
    name: "accepts an unbound token sent as Bearer in allowed mode",
    spec: "RFC 9449 §7.2",
    send: async (ctx, app) =>
      app.request("/me", { authorization: `Bearer ${await ctx.issuer.sign({ sub: "plain" })}` }),
    expect: ok({ sub: "plain" }),
  },
  // §4.3 (1)-(2): one well-formed proof.
  {
    name: "refuses the DPoP scheme without a DPoP header",
    spec: "RFC 9449 §4.3 (1), §7.1",
    send: async (ctx, app) =>
      app.request("/me", { authorization: `DPoP ${await boundToken(ctx)}` }),
    expect: invalidProof("The request has no DPoP proof"),
  },
  {
    name: "refuses two proofs in the DPoP header",
    spec: "RFC 9449 §4.3 (1)",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      return app.request("/me", dpopHeaders(token, `${proof}, ${proof}`));
    },
    expect: invalidProof("The request must carry exactly one DPoP proof"),
  },
  {
    name: "refuses a proof that is not a JWT",
    spec: "RFC 9449 §4.3 (2)",
    send: async (ctx, app) => app.request("/me", dpopHeaders(await boundToken(ctx), "not.a-jwt")),
    expect: invalidProof("The DPoP proof is malformed"),
  },
  {
    name: "refuses an oversized proof",
    spec: "RFC 9449 §4.3 (2)",
    send: holderRequest("/me", { claims: { padding: "x".repeat(9000) } }),
    expect: invalidProof("The DPoP proof is malformed"),
  },
  // §4.3 (3): required claims and headers.
  ...["jti", "htm", "htu", "iat", "ath"].map(
    (claim): DpopCase => ({
      name: `refuses a proof without ${claim}`,
      spec: "RFC 9449 §4.3 (3)",
      send: claimsWithout(claim),
      expect: invalidProof("The DPoP proof lacks a required claim"),
    }),
  ),
  // §4.3 (4): typ.
  {
    name: "refuses a proof whose typ is not dpop+jwt",
    spec: "RFC 9449 §4.3 (4)",
    send: holderRequest("/me", { header: { typ: "JWT" } }),
    expect: invalidProof("The DPoP proof's typ must be dpop+jwt"),
  },
  {
    name: "refuses a proof without typ",
    spec: "RFC 9449 §4.3 (3)-(4)",
    send: holderRequest("/me", { header: { typ: undefined } }),
    expect: invalidProof("The DPoP proof's typ must be dpop+jwt"),
  },
  // §4.3 (5): an allowed asymmetric algorithm.
  {
    name: "refuses an alg none proof",
    spec: "RFC 9449 §4.3 (5)",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      const [, payload] = proof.split(".");
      const header = Buffer.from(
        JSON.stringify({ typ: "dpop+jwt", alg: "none", jwk: ctx.client.publicJwk }),
      ).toString("base64url");
      return app.request("/me", dpopHeaders(token, `${header}.${payload}.AAAA`));
    },
    expect: invalidProof("The DPoP proof's algorithm is not accepted"),
  },
  {
    name: "refuses an HS256 proof",
    spec: "RFC 9449 §4.3 (5)",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const now = Math.floor(Date.now() / 1000);
      const proof = await signHmacToken(
        "secret",
        { jti: "h1", htm: "GET", htu: `${ORIGIN}/me`, iat: now },
        { typ: "dpop+jwt", jwk: { kty: "oct", k: "c2VjcmV0" } },
      );
      return app.request("/me", dpopHeaders(token, proof));
    },
    expect: invalidProof("The DPoP proof's algorithm is not accepted"),
  },
  {
    name: "refuses a proof algorithm outside the configured list",
    spec: "RFC 9449 §4.3 (5)",
    send: async (ctx, app) => {
      const client = await createDpopClient("RS256");
      const token = await boundToken(ctx, {}, client);
      const proof = await client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      return app.request("/me", dpopHeaders(token, proof));
    },
    expect: invalidProof("The DPoP proof's algorithm is not accepted"),
  },
  // §4.3 (6)-(7): the embedded public key verifies the signature.
  {
    name: "refuses a proof without an embedded jwk",
    spec: "RFC 9449 §4.3 (3)",
    send: holderRequest("/me", { header: { jwk: undefined } }),
    expect: invalidProof("The DPoP proof must carry a public jwk"),
  },
  {
    name: "refuses a proof whose jwk is a private key",
    spec: "RFC 9449 §4.3 (7)",
    send: async (ctx, app) => {
      const privateJwk = await crypto.subtle.exportKey(
        "jwk",
        ctx.client.key.privateKey as Parameters<typeof crypto.subtle.exportKey>[1],
      );
      const token = await boundToken(ctx);
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, {
        accessToken: token,
        header: { jwk: privateJwk },
      });
      return app.request("/me", dpopHeaders(token, proof));
    },
    expect: invalidProof("The DPoP proof must carry a public jwk"),
  },
  {
    name: "refuses a proof signed by another key than its jwk",
    spec: "RFC 9449 §4.3 (6)",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, {
        accessToken: token,
        signWith: await generateTestKey("ES256"),
      });
      return app.request("/me", dpopHeaders(token, proof));
    },
    expect: invalidProof("The DPoP proof's signature is invalid"),
  },
  // §4.3 (8)-(9): this request's method and URL.
  {
    name: "refuses a proof for another method",
    spec: "RFC 9449 §4.3 (8)",
    send: holderRequest("/me", {}, `${ORIGIN}/me`, "POST"),
    expect: invalidProof("The DPoP proof is for another HTTP method"),
  },
  {
    name: "compares htm case-sensitively",
    spec: "RFC 9449 §4.3 (8), RFC 9110 §9.1",
    send: holderRequest("/me", {}, `${ORIGIN}/me`, "get"),
    expect: invalidProof("The DPoP proof is for another HTTP method"),
  },
  {
    name: "refuses a proof for another path",
    spec: "RFC 9449 §4.3 (9)",
    send: holderRequest("/me", {}, `${ORIGIN}/admin`),
    expect: invalidProof("The DPoP proof is for another URL"),
  },
  {
    name: "refuses a proof for another origin",
    spec: "RFC 9449 §4.3 (9)",
    send: holderRequest("/me", {}, "https://other.example.test/me"),
    expect: invalidProof("The DPoP proof is for another URL"),
  },
  {
    name: "never takes the origin from X-Forwarded-Host or X-Forwarded-Proto",
    spec: "RFC 9449 §4.3 (9), §11.7",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const proof = await ctx.client.proof("GET", "http://evil.example.test/me", {
        accessToken: token,
      });
      return app.request("/me", {
        ...dpopHeaders(token, proof),
        "x-forwarded-host": "evil.example.test",
        "x-forwarded-proto": "http",
      });
    },
    expect: invalidProof("The DPoP proof is for another URL"),
  },
  // §4.3 (11): creation time.
  {
    name: "refuses a proof older than the window (60 s)",
    spec: "RFC 9449 §4.3 (11)",
    send: holderRequest("/me", { iatOffsetSec: -90 }),
    expect: invalidProof("The DPoP proof is too old"),
  },
  {
    name: "refuses a proof issued in the future",
    spec: "RFC 9449 §4.3 (11)",
    send: holderRequest("/me", { iatOffsetSec: 60 }),
    expect: invalidProof("The DPoP proof is issued in the future"),
  },
  // §4.3 (12): the access token's hash and key binding.
  {
    name: "refuses a proof made for another access token",
    spec: "RFC 9449 §4.3 (12)",
    send: holderRequest("/me", { accessToken: "some.other.token" }),
    expect: invalidProof("The DPoP proof is for another access token"),
  },
  {
    name: "refuses a bound token copied to another client (cnf.jkt is not the proof key)",
    spec: "RFC 9449 §4.3 (12), §7.1",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const proof = await ctx.thief.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      return app.request("/me", dpopHeaders(token, proof));
    },
    expect: invalidToken("DPoP", "The access token is bound to another key than the DPoP proof's"),
  },
  {
    name: "refuses an unbound token sent with the DPoP scheme",
    spec: "RFC 9449 §7.1",
    send: async (ctx, app) => {
      const token = await ctx.issuer.sign();
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      return app.request("/me", dpopHeaders(token, proof));
    },
    expect: invalidToken("DPoP", "The access token is not bound to a DPoP key"),
  },
  {
    name: "refuses a bound token presented as Bearer",
    spec: "RFC 9449 §7.2",
    send: async (ctx, app) =>
      app.request("/me", { authorization: `Bearer ${await boundToken(ctx)}` }),
    expect: invalidToken(
      "Bearer",
      "The access token is bound to a key: send it with the DPoP scheme and a proof",
    ),
  },
  {
    name: "refuses a bound token as Bearer even when the holder's use cached it",
    spec: "RFC 9449 §7.2",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      await expectStatus(app.request("/me", dpopHeaders(token, proof)), 200);
      return app.request("/me", { authorization: `Bearer ${token}` });
    },
    expect: invalidToken(
      "Bearer",
      "The access token is bound to a key: send it with the DPoP scheme and a proof",
    ),
  },
  {
    name: "refuses a cached Bearer token in required mode",
    spec: "RFC 9449 §7.1",
    options: {
      dpop: { mode: "required", publicOrigin: ORIGIN, algorithms: [...DPOP_ALGS] },
      verifiedTokenCache: { max: 10 },
    },
    send: async (ctx, app) => {
      const token = await ctx.issuer.sign();
      await app.request("/me", { authorization: `Bearer ${token}` });
      return app.request("/me", { authorization: `Bearer ${token}` });
    },
    expect: {
      status: 401,
      challenge: `DPoP ${REALM}, error="invalid_token", error_description="The access token must be sent with the DPoP scheme", algs="${ALGS}"`,
      body: {
        error: "invalid_token",
        error_description: "The access token must be sent with the DPoP scheme",
      },
    },
  },
  {
    name: "links the resource metadata in a guard's refusal of a cached token",
    spec: "RFC 9728 §5.1",
    options: withMetadata,
    send: async (ctx, app) => {
      const token = await ctx.issuer.sign({ scope: "orders:write" });
      await expectStatus(app.request("/me", { authorization: `Bearer ${token}` }), 200);
      return app.request("/scoped", { authorization: `Bearer ${token}` });
    },
    expect: {
      status: 403,
      challenge: `Bearer ${REALM}, error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:read", resource_metadata="${METADATA_URL}", DPoP ${REALM}, resource_metadata="${METADATA_URL}", algs="${ALGS}"`,
      body: {
        error: "insufficient_scope",
        error_description: "The access token lacks a required scope",
      },
    },
  },
  // §11.1: replay.
  {
    name: "refuses a replayed proof",
    spec: "RFC 9449 §11.1",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      await expectStatus(app.request("/me", dpopHeaders(token, proof)), 200);
      return app.request("/me", dpopHeaders(token, proof));
    },
    expect: invalidProof("The DPoP proof was already used"),
  },
  {
    name: "checks the proof on every request, never from the verified-token cache",
    spec: "RFC 9449 §4.3",
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const good = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      await expectStatus(app.request("/me", dpopHeaders(token, good)), 200);
      const wrongMethod = await ctx.client.proof("PUT", `${ORIGIN}/me`, { accessToken: token });
      return app.request("/me", dpopHeaders(token, wrongMethod));
    },
    expect: invalidProof("The DPoP proof is for another HTTP method"),
  },
  // §9: server nonces.
  {
    name: "asks for a nonce with use_dpop_nonce and a DPoP-Nonce header",
    spec: "RFC 9449 §4.3 (10), §9",
    options: withNonce,
    send: holderRequest("/me"),
    expect: {
      status: 401,
      challenge: both(
        "DPoP",
        `${REALM}, error="use_dpop_nonce", error_description="The DPoP proof must carry the server's nonce"`,
      ),
      body: {
        error: "use_dpop_nonce",
        error_description: "The DPoP proof must carry the server's nonce",
      },
      nonce: true,
    },
  },
  {
    name: "refuses a proof with a nonce the server never issued",
    spec: "RFC 9449 §4.3 (10), §9",
    options: withNonce,
    send: holderRequest("/me", { nonce: "made-up" }),
    expect: {
      status: 401,
      challenge: both(
        "DPoP",
        `${REALM}, error="use_dpop_nonce", error_description="The DPoP proof must carry the server's nonce"`,
      ),
      body: {
        error: "use_dpop_nonce",
        error_description: "The DPoP proof must carry the server's nonce",
      },
      nonce: true,
    },
  },
  {
    name: "accepts a proof with the issued nonce and sends the current nonce",
    spec: "RFC 9449 §4.3 (10), §9",
    options: withNonce,
    send: async (ctx, app) => {
      const token = await boundToken(ctx);
      const first = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
      const asked = await app.request("/me", dpopHeaders(token, first));
      const nonce = asked.headers["dpop-nonce"];
      if (asked.status !== 401 || nonce === undefined) {
        throw new Error(`setup expected 401 with DPoP-Nonce, got ${asked.status}`);
      }
      const proof = await ctx.client.proof("GET", `${ORIGIN}/me`, { accessToken: token, nonce });
      return app.request("/me", dpopHeaders(token, proof));
    },
    expect: ok({ sub: "holder" }, true),
  },
  // §7.1-7.2: challenges per mode.
  {
    name: "challenges with Bearer and DPoP (algs) in allowed mode",
    spec: "RFC 9449 §7.1-7.2",
    send: async (_ctx, app) => app.request("/me"),
    expect: {
      status: 401,
      challenge: `Bearer ${REALM}, DPoP ${REALM}, algs="${ALGS}"`,
      body: { error: "missing_token", error_description: "Authentication is required" },
    },
  },
  {
    name: "challenges with DPoP only in required mode",
    spec: "RFC 9449 §7.1",
    options: required,
    send: async (_ctx, app) => app.request("/me"),
    expect: {
      status: 401,
      challenge: `DPoP ${REALM}, algs="${ALGS}"`,
      body: { error: "missing_token", error_description: "Authentication is required" },
    },
  },
  {
    name: "refuses a Bearer token in required mode",
    spec: "RFC 9449 §7.1",
    options: required,
    send: async (ctx, app) =>
      app.request("/me", { authorization: `Bearer ${await ctx.issuer.sign()}` }),
    expect: {
      status: 401,
      challenge: `DPoP ${REALM}, error="invalid_token", error_description="The access token must be sent with the DPoP scheme", algs="${ALGS}"`,
      body: {
        error: "invalid_token",
        error_description: "The access token must be sent with the DPoP scheme",
      },
    },
  },
  {
    name: "accepts a bound token with its proof in required mode",
    spec: "RFC 9449 §7.1",
    options: required,
    send: holderRequest("/me"),
    expect: ok({ sub: "holder" }),
  },
  {
    name: "reads no DPoP scheme when DPoP is disabled",
    spec: "RFC 6750 §3.1",
    options: { dpop: { mode: "disabled" } },
    send: holderRequest("/me"),
    expect: {
      status: 401,
      challenge: `Bearer ${REALM}`,
      body: { error: "missing_token", error_description: "Authentication is required" },
    },
  },
  {
    name: "puts a guard's 403 for a DPoP request in the DPoP challenge",
    spec: "RFC 9449 §7.1",
    send: holderRequest("/scoped"),
    expect: {
      status: 403,
      challenge: both(
        "DPoP",
        `${REALM}, error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:read"`,
      ),
      body: {
        error: "insufficient_scope",
        error_description: "The access token lacks a required scope",
      },
    },
  },
  // RFC 9728 §5.1: the metadata link in every challenge.
  {
    name: "links the resource metadata in a missing-token challenge",
    spec: "RFC 9728 §5.1",
    options: withMetadata,
    send: async (_ctx, app) => app.request("/me"),
    expect: {
      status: 401,
      challenge: `Bearer ${REALM}, resource_metadata="${METADATA_URL}", DPoP ${REALM}, resource_metadata="${METADATA_URL}", algs="${ALGS}"`,
      body: { error: "missing_token", error_description: "Authentication is required" },
    },
  },
  {
    name: "links the resource metadata in an invalid-token challenge",
    spec: "RFC 9728 §5.1",
    options: withMetadata,
    send: async (_ctx, app) => app.request("/me", { authorization: "Bearer not-a-jwt" }),
    expect: {
      status: 401,
      challenge: `Bearer ${REALM}, error="invalid_token", error_description="The access token is malformed", resource_metadata="${METADATA_URL}", DPoP ${REALM}, resource_metadata="${METADATA_URL}", algs="${ALGS}"`,
      body: { error: "invalid_token", error_description: "The access token is malformed" },
    },
  },
  {
    name: "links the resource metadata without DPoP",
    spec: "RFC 9728 §5.1",
    options: {
      resourceMetadata: { resource: ORIGIN, authorizationServers: ["https://auth.example.test"] },
    },
    send: async (_ctx, app) => app.request("/me"),
    expect: {
      status: 401,
      challenge: `Bearer ${REALM}, resource_metadata="${METADATA_URL}"`,
      body: { error: "missing_token", error_description: "Authentication is required" },
    },
  },
  // RFC 9470: step-up.
  {
    name: "asks for a stronger authentication with acr_values",
    spec: "RFC 9470 §3",
    options: {},
    send: async (ctx, app) =>
      app.request("/acr", { authorization: `Bearer ${await ctx.issuer.sign({ acr: "pwd" })}` }),
    expect: {
      status: 401,
      challenge: `Bearer ${REALM}, error="insufficient_user_authentication", error_description="A stronger user authentication is required", acr_values="phr"`,
      body: {
        error: "insufficient_user_authentication",
        error_description: "A stronger user authentication is required",
      },
    },
  },
  {
    name: "passes a token with the required acr",
    spec: "RFC 9470 §3",
    options: {},
    send: async (ctx, app) =>
      app.request("/acr", {
        authorization: `Bearer ${await ctx.issuer.sign({ sub: "strong", acr: "phr" })}`,
      }),
    expect: ok({ sub: "strong" }),
  },
  {
    name: "asks for a recent authentication with max_age",
    spec: "RFC 9470 §3",
    options: {},
    send: async (ctx, app) => {
      const authTime = Math.floor(Date.now() / 1000) - 600;
      return app.request("/recent", {
        authorization: `Bearer ${await ctx.issuer.sign({ auth_time: authTime })}`,
      });
    },
    expect: {
      status: 401,
      challenge: `Bearer ${REALM}, error="insufficient_user_authentication", error_description="A more recent user authentication is required", max_age="300"`,
      body: {
        error: "insufficient_user_authentication",
        error_description: "A more recent user authentication is required",
      },
    },
  },
  {
    name: "asks for a recent authentication when auth_time is missing",
    spec: "RFC 9470 §3",
    options: {},
    send: async (ctx, app) =>
      app.request("/recent", { authorization: `Bearer ${await ctx.issuer.sign()}` }),
    expect: {
      status: 401,
      challenge: `Bearer ${REALM}, error="insufficient_user_authentication", error_description="A more recent user authentication is required", max_age="300"`,
      body: {
        error: "insufficient_user_authentication",
        error_description: "A more recent user authentication is required",
      },
    },
  },
  {
    name: "passes a recent authentication",
    spec: "RFC 9470 §3",
    options: {},
    send: async (ctx, app) => {
      const authTime = Math.floor(Date.now() / 1000) - 30;
      return app.request("/recent", {
        authorization: `Bearer ${await ctx.issuer.sign({ sub: "fresh", auth_time: authTime })}`,
      });
    },
    expect: ok({ sub: "fresh" }),
  },
  {
    name: "states a step-up refusal in the DPoP challenge for a DPoP request",
    spec: "RFC 9470 §3, RFC 9449 §7.1",
    send: holderRequest("/acr"),
    expect: {
      status: 401,
      challenge: both(
        "DPoP",
        `${REALM}, error="insufficient_user_authentication", error_description="A stronger user authentication is required", acr_values="phr"`,
      ),
      body: {
        error: "insufficient_user_authentication",
        error_description: "A stronger user authentication is required",
      },
    },
  },
];
