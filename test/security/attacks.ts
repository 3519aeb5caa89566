import { generateKeyPairSync, KeyObject, sign as nodeSign, webcrypto } from "node:crypto";
import type { VerifierOptions } from "@meishi/core";
import {
  createUnsecuredToken,
  generateTestKey,
  signHmacToken,
  signToken,
  type TestIssuer,
  type TestKey,
  tamperPayload,
} from "@meishi/testing";
import type { HarnessApp, HarnessReply } from "../conformance/harness.js";
import { b64url, bearer, type ChallengeError, keyFor, signRaw, validClaims } from "./support.js";

/** What an attack may use. */
export interface AttackContext {
  /**
   * The trusted issuer: shared by the whole table (RS256, PS256, ES256 and EdDSA keys), or a
   * new ES256 issuer for `fresh` cases, which change its keys.
   */
  issuer: TestIssuer;
  /** A second trusted issuer (ES256), for multi-issuer confusion. */
  second: TestIssuer;
  /** The attacker's own JWKS server. Nothing may ever fetch from it. */
  attacker: TestIssuer;
}

export interface AttackExpectation {
  status: number;
  /**
   * The challenge's `error`; `null` means a bare `Bearer realm="api"` on a 401 and no
   * `WWW-Authenticate` at all on any other status.
   */
  error: ChallengeError | null;
  /** The exact `error_description`. */
  description?: string;
  /** The challenge's `scope` attribute (403 only). */
  scope?: string;
  /** For a 200: the fields `body.auth` must have. */
  auth?: Record<string, unknown>;
}

export interface AttackCase {
  name: string;
  /** Use a fresh ES256 issuer, because the case publishes keys. */
  fresh?: boolean;
  /** Verifier options; default `{ jwksUri, issuer, audience }` of the case's issuer. */
  options?: (ctx: AttackContext) => VerifierOptions;
  /** Runs after the app starts, before the request (warm-ups, floods, key changes). */
  setup?: (ctx: AttackContext, app: HarnessApp) => Promise<void>;
  /** Default `/me`. May carry a query string. */
  path?: string | ((ctx: AttackContext) => Promise<string>);
  headers: (ctx: AttackContext) => Promise<Record<string, string>>;
  expect: AttackExpectation;
  /** The request must be refused without fetching the trusted JWKS at all. */
  noKeyFetch?: boolean;
  /** Extra checks after the request. */
  verify?: (ctx: AttackContext, reply: HarnessReply) => void;
}

const INVALID = "The access token is invalid";
const MALFORMED = "The access token is malformed";
const NOT_YET_VALID = "The access token is not valid yet";
const TOO_LARGE = "The access token is too large";

const invalid = (description = INVALID): AttackExpectation => ({
  status: 401,
  error: "invalid_token",
  description,
});
const malformed = (): AttackExpectation => invalid(MALFORMED);
const invalidRequest = (description: string): AttackExpectation => ({
  status: 400,
  error: "invalid_request",
  description,
});
const MISSING: AttackExpectation = { status: 401, error: null };
const LACKS_ROLE: AttackExpectation = {
  status: 403,
  error: "insufficient_scope",
  description: "The access token lacks a required role",
};
const ok = (auth: Record<string, unknown> = {}): AttackExpectation => ({
  status: 200,
  error: null,
  auth,
});

const rsKey = (ctx: AttackContext) => keyFor(ctx.issuer, "RS256");

function spkiPem(key: TestKey): string {
  return KeyObject.from(key.publicKey as webcrypto.CryptoKey)
    .export({ type: "spki", format: "pem" })
    .toString();
}

/** Replace a token's header, keeping its payload and signature. */
function withHeader(token: string, header: Record<string, unknown>): string {
  const [, payload, signature] = token.split(".");
  return `${b64url(JSON.stringify(header))}.${payload}.${signature}`;
}

/** The attacker's token: trusted iss/aud, signed with the attacker's own key. */
async function attackerToken(
  ctx: AttackContext,
  header: Record<string, unknown>,
  claims: Record<string, unknown> = {},
): Promise<string> {
  const key = keyFor(ctx.attacker, "RS256");
  return signToken(key, { ...validClaims(ctx.issuer), sub: "admin", ...claims }, header);
}

// --- alg "none" in every casing, with and without a signature -------------------------------

const NONE_CASINGS = ["none", "None", "NONE", "nOnE"] as const;

const algNoneCases: AttackCase[] = NONE_CASINGS.flatMap((alg): AttackCase[] => [
  {
    name: `alg "${alg}" with an empty signature`,
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(createUnsecuredToken(validClaims(ctx.issuer), { alg, kid: rsKey(ctx).kid })),
    expect: invalid(),
  },
  {
    name: `alg "${alg}" carrying a real signature`,
    noKeyFetch: true,
    headers: async (ctx) => {
      const real = await ctx.issuer.sign({ role: "admin" });
      return bearer(withHeader(real, { alg, typ: "JWT", kid: rsKey(ctx).kid }));
    },
    expect: invalid(),
  },
]);

// --- HMAC keyed with public key material (algorithm confusion, RFC 8725 §2.1) ---------------

const hmacCases: AttackCase[] = [
  ...(["HS256", "HS384", "HS512"] as const).map(
    (alg): AttackCase => ({
      name: `${alg} keyed with the RSA public key as PEM`,
      noKeyFetch: true,
      headers: async (ctx) =>
        bearer(
          await signHmacToken(spkiPem(rsKey(ctx)), validClaims(ctx.issuer), {
            alg,
            kid: rsKey(ctx).kid,
          }),
        ),
      expect: invalid(),
    }),
  ),
  {
    name: "HS256 keyed with the RSA public key as PEM without its final newline",
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(
        await signHmacToken(spkiPem(rsKey(ctx)).trimEnd(), validClaims(ctx.issuer), {
          kid: rsKey(ctx).kid,
        }),
      ),
    expect: invalid(),
  },
  {
    name: "HS256 keyed with the RSA public key as JWK JSON",
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(
        await signHmacToken(JSON.stringify(rsKey(ctx).publicJwk), validClaims(ctx.issuer), {
          kid: rsKey(ctx).kid,
        }),
      ),
    expect: invalid(),
  },
  {
    name: "HS256 keyed with the RSA modulus bytes",
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(
        await signHmacToken(
          Buffer.from(String(rsKey(ctx).publicJwk.n), "base64url"),
          validClaims(ctx.issuer),
          { kid: rsKey(ctx).kid },
        ),
      ),
    expect: invalid(),
  },
  {
    name: "HS256 keyed with the whole JWKS document",
    noKeyFetch: true,
    headers: async (ctx) => {
      const jwks = await (await fetch(ctx.issuer.jwksUri)).text();
      return bearer(await signHmacToken(jwks, validClaims(ctx.issuer), { kid: rsKey(ctx).kid }));
    },
    expect: invalid(),
  },
  {
    name: "HS256 keyed with the EC public key as PEM",
    noKeyFetch: true,
    headers: async (ctx) => {
      const es = keyFor(ctx.issuer, "ES256");
      return bearer(await signHmacToken(spkiPem(es), validClaims(ctx.issuer), { kid: es.kid }));
    },
    expect: invalid(),
  },
  {
    name: "HS256 keyed with the Ed25519 public key bytes",
    noKeyFetch: true,
    headers: async (ctx) => {
      const ed = keyFor(ctx.issuer, "EdDSA");
      const x = Buffer.from(String(ed.publicJwk.x), "base64url");
      return bearer(await signHmacToken(x, validClaims(ctx.issuer), { kid: ed.kid }));
    },
    expect: invalid(),
  },
];

// --- header alg that is not the key's alg ---------------------------------------------------

const algMismatchCases: AttackCase[] = [
  {
    name: "header RS384 over an RS256 signature of the RS256 key",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { alg: "RS384" } })),
    expect: invalid(),
  },
  {
    name: "header PS256 naming the RS256 key",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { alg: "PS256" } })),
    expect: invalid(),
  },
  {
    name: "a genuine RS256 signature by the key published as PS256",
    headers: async (ctx) => {
      const ps = keyFor(ctx.issuer, "PS256");
      const jwk = await webcrypto.subtle.exportKey("jwk", ps.privateKey as webcrypto.CryptoKey);
      const asPkcs1 = await webcrypto.subtle.importKey(
        "jwk",
        { ...jwk, alg: "RS256" },
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["sign"],
      );
      const input = `${b64url(JSON.stringify({ alg: "RS256", kid: ps.kid }))}.${b64url(
        JSON.stringify({ ...validClaims(ctx.issuer), role: "admin" }),
      )}`;
      const signature = await webcrypto.subtle.sign(
        { name: "RSASSA-PKCS1-v1_5" },
        asPkcs1,
        new TextEncoder().encode(input),
      );
      return bearer(`${input}.${b64url(new Uint8Array(signature))}`);
    },
    expect: invalid(),
  },
  {
    name: "an ES256 token whose kid names the RSA key",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "ES256", header: { kid: rsKey(ctx).kid } })),
    expect: invalid(),
  },
  {
    name: "an EdDSA token whose kid names the EC key",
    headers: async (ctx) =>
      bearer(
        await ctx.issuer.sign(
          {},
          { alg: "EdDSA", header: { kid: keyFor(ctx.issuer, "ES256").kid } },
        ),
      ),
    expect: invalid(),
  },
  {
    name: "header ES384 over an ES256 signature",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "ES256", header: { alg: "ES384" } })),
    expect: invalid(),
  },
  {
    name: 'alg "rs256" (alg names are case-sensitive)',
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { alg: "rs256" } })),
    expect: invalid(),
  },
  {
    name: "a JWE algorithm (RSA-OAEP) in a JWS header",
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { alg: "RSA-OAEP" } })),
    expect: invalid(),
  },
  {
    name: "alg missing from the header",
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { alg: undefined } })),
    expect: invalid(),
  },
  {
    name: "alg that is not a string",
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { alg: 256 } })),
    expect: invalid(),
  },
  {
    name: 'duplicate alg members, "none" last',
    noKeyFetch: true,
    headers: async (ctx) => {
      const key = rsKey(ctx);
      return bearer(
        await signRaw(
          key,
          `{"alg":"RS256","kid":"${key.kid}","alg":"none"}`,
          JSON.stringify(validClaims(ctx.issuer)),
        ),
      );
    },
    expect: invalid(),
  },
];

// --- jku, x5u, x5c and embedded jwk: keys named by the token are never used -----------------

let secondRequestsBefore = 0;

const keyInjectionCases: AttackCase[] = [
  {
    name: "jku pointing at the attacker's JWKS",
    headers: async (ctx) =>
      bearer(
        await attackerToken(ctx, {
          jku: ctx.attacker.jwksUri,
          kid: keyFor(ctx.attacker, "RS256").kid,
        }),
      ),
    expect: invalid(),
  },
  {
    name: "jku pointing at the attacker's JWKS under the trusted kid",
    headers: async (ctx) =>
      bearer(await attackerToken(ctx, { jku: ctx.attacker.jwksUri, kid: rsKey(ctx).kid })),
    expect: invalid(),
  },
  {
    name: "x5u pointing at the attacker's server",
    headers: async (ctx) =>
      bearer(await attackerToken(ctx, { x5u: `${ctx.attacker.url}/cert.pem` })),
    expect: invalid(),
  },
  {
    name: "embedded jwk holding the attacker's key",
    headers: async (ctx) =>
      bearer(await attackerToken(ctx, { jwk: keyFor(ctx.attacker, "RS256").publicJwk })),
    expect: invalid(),
  },
  {
    name: "embedded jwk holding the attacker's key under the trusted kid",
    headers: async (ctx) =>
      bearer(
        await attackerToken(ctx, {
          kid: rsKey(ctx).kid,
          jwk: { ...keyFor(ctx.attacker, "RS256").publicJwk, kid: rsKey(ctx).kid },
        }),
      ),
    expect: invalid(),
  },
  {
    name: "jku, x5u and jwk together with no kid",
    headers: async (ctx) =>
      bearer(
        await attackerToken(ctx, {
          kid: undefined,
          jku: ctx.attacker.jwksUri,
          x5u: `${ctx.attacker.url}/cert.pem`,
          jwk: keyFor(ctx.attacker, "RS256").publicJwk,
        }),
      ),
    expect: invalid(),
  },
  {
    name: "x5c holding a junk certificate chain",
    headers: async (ctx) =>
      bearer(await attackerToken(ctx, { x5c: [b64url("not a certificate")] })),
    expect: invalid(),
  },
  {
    name: "jku on a token naming an untrusted issuer, in multi-issuer mode",
    noKeyFetch: true,
    options: (ctx) => ({
      issuers: [
        { issuer: ctx.issuer.issuer, jwksUri: ctx.issuer.jwksUri, audience: ctx.issuer.audience },
        { issuer: ctx.second.issuer, jwksUri: ctx.second.jwksUri, audience: ctx.second.audience },
      ],
    }),
    setup: async (ctx) => {
      secondRequestsBefore = ctx.second.requests.total;
    },
    headers: async (ctx) =>
      bearer(await ctx.attacker.sign({ sub: "admin" }, { header: { jku: ctx.attacker.jwksUri } })),
    expect: invalid(),
    verify: (ctx) => {
      if (ctx.second.requests.total !== secondRequestsBefore) {
        throw new Error("the second issuer was contacted");
      }
    },
  },
];

// --- kid values --------------------------------------------------------------------------

const kidCases: AttackCase[] = [
  ...(
    [
      ["path traversal", "../../../../../../dev/null"],
      ["a path to the JWKS itself", "../.well-known/jwks.json"],
      ["SQL injection", "' OR '1'='1"],
      ["a URL", "https://evil.example/jwks.json"],
      ["8 KiB long", "k".repeat(8 * 1024)],
    ] as const
  ).map(
    ([label, kid]): AttackCase => ({
      name: `kid with ${label}, signed by the attacker`,
      headers: async (ctx) => bearer(await attackerToken(ctx, { kid })),
      expect: invalid(),
    }),
  ),
  {
    name: "kid 8 KiB long on a token signed by the trusted key",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { kid: "k".repeat(8 * 1024) } })),
    expect: invalid(),
  },
  ...(
    [
      ["a number", 42],
      ["an object", { $ne: null }],
      ["null", null],
      ["an empty string", ""],
    ] as const
  ).map(
    ([label, kid]): AttackCase => ({
      name: `kid that is ${label}, on a token signed by the trusted key`,
      headers: async (ctx) => bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { kid } })),
      expect: invalid(),
    }),
  ),
  {
    name: "kid that is an array holding the trusted kid",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "RS256", header: { kid: [rsKey(ctx).kid] } })),
    expect: invalid(),
  },
];

// --- crit and b64 ----------------------------------------------------------------------------

const critCases: AttackCase[] = [
  {
    name: "crit naming an unknown extension",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { header: { crit: ["x-unknown"], "x-unknown": true } })),
    expect: invalid(),
  },
  {
    name: "crit naming a registered claim (exp)",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { header: { crit: ["exp"], exp: 1 } })),
    expect: invalid(),
  },
  {
    name: "crit that is an empty array",
    headers: async (ctx) => bearer(await ctx.issuer.sign({}, { header: { crit: [] } })),
    expect: malformed(),
  },
  {
    name: "crit that is a string",
    headers: async (ctx) => bearer(await ctx.issuer.sign({}, { header: { crit: "b64" } })),
    expect: malformed(),
  },
  {
    name: "b64 false declared critical",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { header: { b64: false, crit: ["b64"] } })),
    expect: invalid(),
  },
  {
    name: "b64 false without crit",
    headers: async (ctx) => bearer(await ctx.issuer.sign({}, { header: { b64: false } })),
    expect: invalid(),
  },
];

// --- structure and encoding -----------------------------------------------------------------

const structureCases: AttackCase[] = [
  {
    name: "five-part JWE-shaped token",
    noKeyFetch: true,
    headers: async () =>
      bearer(
        [
          b64url(JSON.stringify({ alg: "RSA-OAEP", enc: "A256GCM" })),
          b64url("encrypted key"),
          b64url("iv"),
          b64url("ciphertext"),
          b64url("tag"),
        ].join("."),
      ),
    expect: malformed(),
  },
  {
    name: "a valid token with two parts appended (five parts)",
    noKeyFetch: true,
    headers: async (ctx) => bearer(`${await ctx.issuer.sign()}.AAAA.BBBB`),
    expect: malformed(),
  },
  {
    name: "a valid token with one part appended (four parts)",
    noKeyFetch: true,
    headers: async (ctx) => bearer(`${await ctx.issuer.sign()}.AAAA`),
    expect: malformed(),
  },
  {
    name: "two parts: header and payload only",
    noKeyFetch: true,
    headers: async (ctx) => bearer((await ctx.issuer.sign()).split(".").slice(0, 2).join(".")),
    expect: malformed(),
  },
  {
    name: "empty header and payload segments",
    noKeyFetch: true,
    headers: async () => bearer(".."),
    expect: malformed(),
  },
  {
    name: "base64 (not base64url) characters + and /",
    noKeyFetch: true,
    headers: async (ctx) => {
      const [header, payload, signature] = (await ctx.issuer.sign()).split(".");
      const std = (segment = "") => Buffer.from(segment, "base64url").toString("base64");
      return bearer(`${std(header)}.${std(payload)}.${std(signature).replace(/=+$/, "")}/+`);
    },
    expect: malformed(),
  },
  {
    name: "base64 padding on the segments",
    noKeyFetch: true,
    headers: async (ctx) => {
      const token = await ctx.issuer.sign({ sub: "pad" });
      return bearer(`${token}==`);
    },
    expect: malformed(),
  },
  {
    name: "a character outside b64token (!)",
    noKeyFetch: true,
    headers: async (ctx) => bearer(`${await ctx.issuer.sign()}!`),
    expect: malformed(),
  },
  {
    name: "a percent-encoded token",
    noKeyFetch: true,
    headers: async (ctx) => bearer(encodeURIComponent(`${await ctx.issuer.sign()}=`)),
    expect: malformed(),
  },
  {
    name: "a header segment of impossible base64url length",
    noKeyFetch: true,
    headers: async (ctx) => {
      const [header, payload, signature] = (await ctx.issuer.sign()).split(".");
      const h = header!.slice(0, header!.length - (header!.length % 4) + 1);
      return bearer(`${h}.${payload}.${signature}`);
    },
    expect: malformed(),
  },
  {
    name: "whitespace inside the token (space)",
    headers: async (ctx) => {
      const [header, payload, signature] = (await ctx.issuer.sign()).split(".");
      return { authorization: `Bearer ${header}.${payload} .${signature}` };
    },
    expect: invalidRequest("The Authorization header must carry exactly one bearer token"),
  },
  {
    name: "whitespace inside the token (tab)",
    headers: async (ctx) => {
      const [header, payload, signature] = (await ctx.issuer.sign()).split(".");
      return { authorization: `Bearer ${header}.\t${payload}.${signature}` };
    },
    expect: invalidRequest("The Authorization header must carry exactly one bearer token"),
  },
  {
    name: "several spaces after the scheme are allowed (1*SP)",
    headers: async (ctx) => ({
      authorization: `Bearer    ${await ctx.issuer.sign({ sub: "sp" })}`,
    }),
    expect: ok({ sub: "sp" }),
  },
  {
    name: "a tab instead of a space after the scheme is another scheme",
    headers: async (ctx) => ({ authorization: `Bearer\t${await ctx.issuer.sign()}` }),
    expect: MISSING,
  },
  {
    name: "a colon instead of a space after the scheme is another scheme",
    headers: async (ctx) => ({ authorization: `Bearer:${await ctx.issuer.sign()}` }),
    expect: MISSING,
  },
  {
    name: "a header that is a JSON array, validly signed",
    noKeyFetch: true,
    headers: async (ctx) =>
      bearer(await signRaw(rsKey(ctx), '["RS256"]', JSON.stringify(validClaims(ctx.issuer)))),
    expect: malformed(),
  },
  {
    name: "a payload that is not JSON, validly signed",
    headers: async (ctx) => {
      const key = rsKey(ctx);
      return bearer(await signRaw(key, JSON.stringify({ alg: "RS256", kid: key.kid }), "admin"));
    },
    expect: malformed(),
  },
  {
    name: "a payload that is a JSON array, validly signed",
    headers: async (ctx) => {
      const key = rsKey(ctx);
      return bearer(
        await signRaw(key, JSON.stringify({ alg: "RS256", kid: key.kid }), '[{"sub":"admin"}]'),
      );
    },
    expect: malformed(),
  },
  {
    name: "a payload with invalid UTF-8, validly signed",
    path: "/orders",
    headers: async (ctx) => {
      const key = rsKey(ctx);
      const claims = JSON.stringify(validClaims(ctx.issuer)).slice(0, -1);
      const payload = Buffer.concat([
        Buffer.from(`${claims},"role":"standard user`),
        Buffer.from([0xc0, 0xaf, 0xff]),
        Buffer.from('"}'),
      ]);
      return bearer(await signRaw(key, JSON.stringify({ alg: "RS256", kid: key.kid }), payload));
    },
    expect: malformed(),
  },
  {
    name: "a payload nested 5,000 arrays deep, validly signed",
    headers: async (ctx) => {
      const key = keyFor(ctx.issuer, "ES256");
      const claims = JSON.stringify({ ...validClaims(ctx.issuer), sub: "deep" }).slice(0, -1);
      const payload = `${claims},"x":${"[".repeat(5000)}${"]".repeat(5000)}}`;
      return bearer(await signRaw(key, JSON.stringify({ alg: "ES256", kid: key.kid }), payload));
    },
    expect: ok({ sub: "deep" }),
  },
];

// --- signatures -----------------------------------------------------------------------------

const signatureCases: AttackCase[] = [
  {
    name: "signature stripped",
    path: "/admin",
    headers: async (ctx) => {
      const [header, payload] = (await ctx.issuer.sign({ role: "admin" })).split(".");
      return bearer(`${header}.${payload}.`);
    },
    expect: invalid(),
  },
  {
    name: "signature truncated by three bytes",
    headers: async (ctx) => bearer((await ctx.issuer.sign()).slice(0, -4)),
    expect: invalid(),
  },
  {
    name: "signature truncated to an impossible base64url length",
    headers: async (ctx) => bearer((await ctx.issuer.sign()).slice(0, -1)),
    expect: malformed(),
  },
  {
    name: "signature made by another RSA key with the same kid",
    path: "/admin",
    headers: async (ctx) => {
      const forger = await generateTestKey("RS256", rsKey(ctx).kid);
      return bearer(await signToken(forger, { ...validClaims(ctx.issuer), role: "admin" }));
    },
    expect: invalid(),
  },
  {
    name: "signature made by another EC key with the same kid",
    headers: async (ctx) => {
      const forger = await generateTestKey("ES256", keyFor(ctx.issuer, "ES256").kid);
      return bearer(await signToken(forger, validClaims(ctx.issuer)));
    },
    expect: invalid(),
  },
  {
    name: "signature spliced from another valid token",
    path: "/admin",
    headers: async (ctx) => {
      const [header, payload] = (await ctx.issuer.sign({ role: "admin" })).split(".");
      const signature = (await ctx.issuer.sign()).split(".")[2];
      return bearer(`${header}.${payload}.${signature}`);
    },
    expect: invalid(),
  },
  {
    name: "payload edited to add a role",
    path: "/admin",
    headers: async (ctx) =>
      bearer(tamperPayload(await ctx.issuer.sign({ role: "standard user" }), { role: "admin" })),
    expect: invalid(),
  },
  {
    name: "ES256 signature of all zero bytes (r = s = 0)",
    headers: async (ctx) => {
      const [header, payload] = (await ctx.issuer.sign({}, { alg: "ES256" })).split(".");
      return bearer(`${header}.${payload}.${b64url(new Uint8Array(64))}`);
    },
    expect: invalid(),
  },
  {
    name: "RS256 signature of all zero bytes",
    headers: async (ctx) => {
      const [header, payload] = (await ctx.issuer.sign({}, { alg: "RS256" })).split(".");
      return bearer(`${header}.${payload}.${b64url(new Uint8Array(256))}`);
    },
    expect: invalid(),
  },
];

// --- claims of the wrong type or time ---------------------------------------------------------

const claimCases: AttackCase[] = [
  {
    name: "exp as a string",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({ exp: String(Math.floor(Date.now() / 1000) + 300) })),
    expect: invalid(),
  },
  {
    name: "exp missing",
    headers: async (ctx) => bearer(await ctx.issuer.sign({}, { expiresInSec: null })),
    expect: invalid(),
  },
  {
    name: "aud as an object",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ aud: { 0: ctx.issuer.audience } })),
    expect: invalid(),
  },
  {
    name: "iss as an array holding the trusted issuer",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ iss: [ctx.issuer.issuer] })),
    expect: invalid(),
  },
  {
    name: "nbf ten years in the future",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { notBeforeSec: 10 * 365 * 24 * 3600 })),
    expect: invalid(NOT_YET_VALID),
  },
  {
    name: "iat ten years in the future",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { issuedAtSec: 10 * 365 * 24 * 3600 })),
    expect: invalid(),
  },
  {
    name: "role as a number gives no roles (/me)",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ sub: "num", role: 1 })),
    expect: ok({ sub: "num", roles: [] }),
  },
  {
    name: "role as a number gives no roles (/orders)",
    path: "/orders",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ role: 1 })),
    expect: LACKS_ROLE,
  },
  {
    name: "role as an object gives no roles (/me)",
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({ sub: "obj", role: { "standard user": true } })),
    expect: ok({ sub: "obj", roles: [] }),
  },
  {
    name: "role as an object gives no roles (/orders)",
    path: "/orders",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ role: { "standard user": true } })),
    expect: LACKS_ROLE,
  },
  {
    name: "role as a nested array gives no roles",
    path: "/orders",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ role: [["standard user"]] })),
    expect: LACKS_ROLE,
  },
  {
    name: "a comma-separated role string is one role",
    path: "/admin",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ role: "standard user,admin" })),
    expect: LACKS_ROLE,
  },
  {
    name: "role under __proto__ neither grants the role nor pollutes prototypes",
    path: "/admin",
    headers: async (ctx) => {
      const key = rsKey(ctx);
      const claims = JSON.stringify(validClaims(ctx.issuer)).slice(0, -1);
      const payload = `${claims},"__proto__":{"role":"admin"},"constructor":{"prototype":{"role":"admin"}}}`;
      return bearer(await signRaw(key, JSON.stringify({ alg: "RS256", kid: key.kid }), payload));
    },
    expect: LACKS_ROLE,
    verify: () => {
      if (({} as Record<string, unknown>).role !== undefined) {
        throw new Error("Object.prototype was polluted");
      }
    },
  },
  {
    name: "scope as an array is not read as scopes",
    path: "/scoped",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ scope: ["orders:read"] })),
    expect: {
      status: 403,
      error: "insufficient_scope",
      description: "The access token lacks a required scope",
      scope: "orders:read",
    },
  },
  {
    name: "a tab does not split scopes",
    path: "/scoped",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ scope: "orders:write\torders:read" })),
    expect: {
      status: 403,
      error: "insufficient_scope",
      description: "The access token lacks a required scope",
      scope: "orders:read",
    },
  },
  {
    name: "sub as a number is refused (RFC 7519 §4.1.2: a string)",
    headers: async (ctx) => bearer(await ctx.issuer.sign({ sub: 42 })),
    expect: invalid(),
  },
];

// --- keys that must never verify --------------------------------------------------------------

const keyUseCases: AttackCase[] = [
  {
    name: 'a key published with use "enc"',
    fresh: true,
    setup: async ({ issuer }) => {
      await issuer.addKey("RS256", { kid: "enc-key", use: "enc" });
    },
    headers: async (ctx) => bearer(await ctx.issuer.sign({}, { kid: "enc-key" })),
    expect: invalid(),
  },
  {
    name: "a key published with key_ops lacking verify",
    fresh: true,
    setup: async ({ issuer }) => {
      const key = await issuer.addKey("ES256", { kid: "wrap-key", publish: false });
      issuer.publishJwk({ ...key.publicJwk, key_ops: ["encrypt"] });
    },
    headers: async (ctx) => bearer(await ctx.issuer.sign({}, { kid: "wrap-key" })),
    expect: invalid(),
  },
  {
    name: "a symmetric key published in the JWKS, used for HS256",
    fresh: true,
    noKeyFetch: true,
    setup: async ({ issuer }) => {
      issuer.publishJwk({ kty: "oct", kid: "shared", alg: "HS256", k: b64url("s3cret") });
    },
    headers: async (ctx) =>
      bearer(await signHmacToken("s3cret", validClaims(ctx.issuer), { kid: "shared" })),
    expect: invalid(),
  },
  {
    name: "a symmetric key without alg published in the JWKS, named by an ES256 token",
    fresh: true,
    setup: async ({ issuer }) => {
      issuer.publishJwk({ kty: "oct", kid: "shared", k: b64url("s3cret") });
    },
    headers: async (ctx) =>
      bearer(await ctx.issuer.sign({}, { alg: "ES256", header: { kid: "shared" } })),
    expect: invalid(),
  },
  {
    name: "an RSA key under 2048 bits",
    fresh: true,
    setup: async ({ issuer }) => {
      const { publicKey } = weakRsa();
      issuer.publishJwk({ ...publicKey.export({ format: "jwk" }), kid: "weak", alg: "RS256" });
    },
    headers: async (ctx) => {
      const input = `${b64url(JSON.stringify({ alg: "RS256", kid: "weak" }))}.${b64url(
        JSON.stringify(validClaims(ctx.issuer)),
      )}`;
      const signature = nodeSign("sha256", Buffer.from(input), weakRsa().privateKey);
      return bearer(`${input}.${b64url(signature)}`);
    },
    expect: invalid(),
  },
  {
    name: "an EC key whose point is off the curve",
    fresh: true,
    setup: async ({ issuer }) => {
      const jwk = keyFor(issuer, "ES256").publicJwk;
      const y = Buffer.from(String(jwk.y), "base64url");
      y[y.length - 1]! ^= 1;
      issuer.publishJwk({ ...jwk, kid: "off-curve", y: b64url(y) });
    },
    headers: async (ctx) => bearer(await ctx.issuer.sign({}, { header: { kid: "off-curve" } })),
    expect: invalid(),
  },
  {
    name: "two published keys with the same kid: refused, not guessed",
    fresh: true,
    setup: async ({ issuer }) => {
      await issuer.addKey("ES256", { kid: keyFor(issuer, "ES256").kid });
    },
    headers: async (ctx) => bearer(await ctx.issuer.sign()),
    expect: invalid(),
  },
  {
    name: "a token naming issuer A, signed by trusted issuer B's key",
    options: (ctx) => ({
      issuers: [
        { issuer: ctx.issuer.issuer, jwksUri: ctx.issuer.jwksUri, audience: ctx.issuer.audience },
        { issuer: ctx.second.issuer, jwksUri: ctx.second.jwksUri, audience: ctx.second.audience },
      ],
    }),
    headers: async (ctx) =>
      bearer(await ctx.second.sign({ iss: ctx.issuer.issuer, aud: ctx.issuer.audience })),
    expect: invalid(),
  },
];

async function expectStatus(app: HarnessApp, token: string, status: number): Promise<void> {
  const reply = await app.request("/me", bearer(token));
  if (reply.status !== status) {
    throw new Error(`setup expected ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
}

let retiredToken = "";
let jwksFetchesBeforeFlood = 0;

// --- key lifecycle and unknown-kid floods ------------------------------------------------------

const lifecycleCases: AttackCase[] = [
  {
    name: "a cached token whose key was retired is refused once the JWKS drops the key",
    fresh: true,
    setup: async (ctx, app) => {
      retiredToken = await ctx.issuer.sign({ sub: "before-rotation" });
      await expectStatus(app, retiredToken, 200); // verified and cached
      await ctx.issuer.rotate({ retireOld: true });
      // A token under the new kid makes the verifier refetch and see the old key gone.
      await expectStatus(app, await ctx.issuer.sign(), 200);
    },
    headers: async () => bearer(retiredToken),
    expect: invalid(),
  },
  {
    name: "a flood of unknown kids costs at most one JWKS refetch",
    fresh: true,
    setup: async (ctx, app) => {
      await expectStatus(app, await ctx.issuer.sign(), 200);
      jwksFetchesBeforeFlood = ctx.issuer.requests.jwks;
      const forger = keyFor(ctx.attacker, "RS256");
      for (let i = 0; i < 40; i++) {
        const token = await signToken(forger, validClaims(ctx.issuer), { kid: `junk-${i}` });
        await expectStatus(app, token, 401);
      }
    },
    headers: async (ctx) =>
      bearer(
        await signToken(keyFor(ctx.attacker, "RS256"), validClaims(ctx.issuer), {
          kid: "junk-last",
        }),
      ),
    expect: invalid(),
    verify: (ctx) => {
      const refetches = ctx.issuer.requests.jwks - jwksFetchesBeforeFlood;
      if (refetches > 1) throw new Error(`41 unknown kids caused ${refetches} JWKS refetches`);
    },
  },
];

let weakRsaPair: { publicKey: KeyObject; privateKey: KeyObject } | undefined;
function weakRsa() {
  weakRsaPair ??= generateKeyPairSync("rsa", { modulusLength: 1024 });
  return weakRsaPair;
}

// --- size, credentials and where the token is ----------------------------------------------

const requestCases: AttackCase[] = [
  {
    name: "a 15 KB junk token under Node's header limit",
    noKeyFetch: true,
    headers: async () => bearer(["A", "B", "C"].map((c) => c.repeat(5000)).join(".")),
    expect: malformed(),
  },
  {
    name: "a 15 KB signed token over maxTokenBytes",
    noKeyFetch: true,
    options: (ctx) => ({
      jwksUri: ctx.issuer.jwksUri,
      issuer: ctx.issuer.issuer,
      audience: ctx.issuer.audience,
      maxTokenBytes: 8 * 1024,
    }),
    headers: async (ctx) => bearer(await ctx.issuer.sign({ pad: "p".repeat(11_000) })),
    expect: invalid(TOO_LARGE),
  },
  {
    name: "a 100 KB token is refused by Node's HTTP parser (431)",
    noKeyFetch: true,
    headers: async (ctx) => bearer(await ctx.issuer.sign({ pad: "p".repeat(75_000) })),
    expect: { status: 431, error: null },
  },
  {
    name: "two credentials in one header",
    headers: async (ctx) => ({
      authorization: `Bearer ${await ctx.issuer.sign()} ${await ctx.issuer.sign()}`,
    }),
    expect: invalidRequest("The Authorization header must carry exactly one bearer token"),
  },
  {
    name: "two Authorization values folded into one",
    headers: async (ctx) => ({
      authorization: `Bearer ${await ctx.issuer.sign()}, Bearer ${await ctx.issuer.sign()}`,
    }),
    expect: invalidRequest("The request must carry exactly one Authorization header"),
  },
  {
    name: "Bearer with nothing after it",
    headers: async () => ({ authorization: "Bearer " }),
    expect: invalidRequest("The Authorization header has no bearer token"),
  },
  {
    name: "a junk token only in the query string (off by default)",
    noKeyFetch: true,
    path: "/me?access_token=a.b.c",
    headers: async () => ({}),
    expect: MISSING,
  },
  {
    name: "a valid token only in the query string (off by default)",
    noKeyFetch: true,
    path: async (ctx) => `/me?access_token=${await ctx.issuer.sign()}`,
    headers: async () => ({}),
    expect: MISSING,
  },
  {
    name: "a token in the query string and the header, query tokens allowed",
    options: (ctx) => ({
      jwksUri: ctx.issuer.jwksUri,
      issuer: ctx.issuer.issuer,
      audience: ctx.issuer.audience,
      allowInsecureQueryToken: true,
    }),
    path: "/me?access_token=eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    headers: async (ctx) => bearer(await ctx.issuer.sign()),
    expect: invalidRequest("The token must be sent in exactly one place"),
  },
  {
    name: "a token only in a cookie (cookies off by default)",
    noKeyFetch: true,
    headers: async (ctx) => ({ cookie: `access_token=${await ctx.issuer.sign()}` }),
    expect: MISSING,
  },
  {
    name: "a JWT sent as the Basic password",
    noKeyFetch: true,
    headers: async (ctx) => ({
      authorization: `Basic ${Buffer.from(`user:${await ctx.issuer.sign()}`).toString("base64")}`,
    }),
    expect: MISSING,
  },
  {
    name: "a JWT sent under the DPoP scheme",
    noKeyFetch: true,
    headers: async (ctx) => ({ authorization: `DPoP ${await ctx.issuer.sign()}` }),
    expect: MISSING,
  },
];

/** The attack catalog. Every case runs against every adapter over a real socket. */
export const attacks: AttackCase[] = [
  ...algNoneCases,
  ...hmacCases,
  ...algMismatchCases,
  ...keyInjectionCases,
  ...kidCases,
  ...critCases,
  ...structureCases,
  ...signatureCases,
  ...claimCases,
  ...keyUseCases,
  ...lifecycleCases,
  ...requestCases,
];
