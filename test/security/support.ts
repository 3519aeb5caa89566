import { webcrypto } from "node:crypto";
import { buildChallenge, isAuthError } from "@meishi/core";
import type { TestIssuer, TestKey } from "@meishi/testing";
import { afterAll, expect } from "vitest";
import { expressHarness } from "../conformance/express-harness.js";
import { fastifySocketHarness } from "../conformance/fastify-harness.js";
import type { Harness, HarnessReply } from "../conformance/harness.js";
import { honoHarness } from "../conformance/hono-harness.js";
import { koaHarness } from "../conformance/koa-harness.js";

/**
 * The adapters, each over a real socket (Fastify's `inject` skips Node's HTTP parser,
 * which is part of what an attacker talks to).
 */
export const socketHarnesses: readonly Harness[] = [
  expressHarness,
  koaHarness,
  fastifySocketHarness,
  honoHarness,
];

export const REALM = 'realm="api"';
export const BARE_CHALLENGE = `Bearer ${REALM}`;

/** RFC 6750 error codes a challenge may carry. */
export type ChallengeError = "invalid_token" | "invalid_request" | "insufficient_scope";

const STACK_PATTERNS: readonly RegExp[] = [/ {4}at /, /\bat .+:\d+:\d+/, /\b[A-Z]\w*Error:/];

/** Fails when a response body looks like it carries a stack trace or a raw error message. */
export function expectNoStackTrace(body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
  for (const pattern of STACK_PATTERNS) expect(text).not.toMatch(pattern);
}

/**
 * Every refusal a client can see: a 4xx with the right RFC 6750 challenge, or a 503 with
 * `Retry-After`; never another 5xx, never a stack trace.
 */
export function expectWellFormedRefusal(reply: HarnessReply): void {
  expectNoStackTrace(reply.body);
  const description = (reply.body as { error_description?: unknown } | null)?.error_description;
  expect(KNOWN_DESCRIPTIONS.has(String(description)), String(description)).toBe(true);
  const challenge = reply.headers["www-authenticate"];
  switch (reply.status) {
    case 400:
      expect(challenge).toMatch(
        /^Bearer realm="api", error="invalid_request", error_description="/,
      );
      break;
    case 401:
      expect(challenge).toMatch(/^Bearer realm="api"(?:$|, error="invalid_token", )/);
      break;
    case 403:
      expect(challenge).toMatch(/^Bearer realm="api", error="insufficient_scope", /);
      break;
    case 503:
      expect(reply.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      expect(challenge).toBeUndefined();
      break;
    default:
      expect.fail(`unexpected status ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
}

/**
 * Collects `unhandledRejection` and `uncaughtException` for the whole test file and fails the
 * file in `afterAll` if any fired. Call once at the top level of a test file.
 */
export function guardProcess(): void {
  const seen: string[] = [];
  const onRejection = (reason: unknown) => {
    seen.push(`unhandledRejection: ${describeError(reason)}`);
  };
  const onException = (error: unknown) => {
    seen.push(`uncaughtException: ${describeError(error)}`);
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  afterAll(() => {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
    expect(seen).toEqual([]);
  });
}

function describeError(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
}

/** base64url without padding. */
export function b64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString("base64url");
}

function signParams(
  alg: string,
): webcrypto.Algorithm | webcrypto.RsaPssParams | webcrypto.EcdsaParams {
  const bits = alg.slice(2);
  if (alg.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5" };
  if (alg.startsWith("PS")) return { name: "RSA-PSS", saltLength: Number(bits) / 8 };
  if (alg.startsWith("ES")) return { name: "ECDSA", hash: `SHA-${bits}` };
  return { name: "Ed25519" };
}

/**
 * Signs exactly these header and payload bytes with `key` (its own algorithm), so that a
 * validly signed token can carry a header or payload no JSON serializer would produce:
 * duplicate members, invalid UTF-8, non-objects, deep nesting.
 */
export async function signRaw(
  key: TestKey,
  header: string | Uint8Array,
  payload: string | Uint8Array,
): Promise<string> {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const signature = await webcrypto.subtle.sign(
    signParams(key.alg),
    key.privateKey as webcrypto.CryptoKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

/** The claims a token needs to pass against `issuer`, valid for five minutes. */
export function validClaims(issuer: TestIssuer): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer.issuer, aud: issuer.audience, sub: "user-123", iat: now, exp: now + 300 };
}

/** The issuer's current key for `alg`. */
export function keyFor(issuer: TestIssuer, alg: string): TestKey {
  const key = [...issuer.keys].reverse().find((candidate) => candidate.alg === alg);
  if (key === undefined) throw new Error(`the issuer has no ${alg} key`);
  return key;
}

export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});

/** Every client-visible description meishi produces: nothing from the request is reflected. */
export const KNOWN_DESCRIPTIONS: ReadonlySet<string> = new Set([
  "Authentication is required",
  "The request is malformed",
  "The Authorization header has no bearer token",
  "The Authorization header must carry exactly one bearer token",
  "The request must carry exactly one Authorization header",
  "The access_token parameter must appear once with a token",
  "The token must be sent in exactly one place",
  "The access token is invalid",
  "The access token is malformed",
  "The access token is too large",
  "The access token expired",
  "The access token is not valid yet",
  "The access token was revoked",
  "The access token lacks a required role",
  "The access token lacks a required scope",
  "The access token does not grant this access",
  "The service cannot verify tokens right now",
]);

const CODE_FOR_STATUS: Readonly<Record<number, readonly string[]>> = {
  400: ["invalid_request"],
  401: ["missing_token", "invalid_token"],
  403: ["insufficient_scope"],
  503: ["temporarily_unavailable"],
};

/**
 * `error` must be a meishi `AuthError` with one of `statuses`, a matching code, a known
 * description and the RFC 6750 challenge its status calls for.
 */
export function expectAuthError(error: unknown, statuses: readonly number[]): void {
  if (!isAuthError(error)) {
    throw new Error(`not an AuthError: ${error instanceof Error ? error.stack : String(error)}`);
  }
  expect(statuses).toContain(error.status);
  expect(error.statusCode).toBe(error.status);
  expect(CODE_FOR_STATUS[error.status]).toContain(error.code);
  expect(KNOWN_DESCRIPTIONS.has(error.description), error.description).toBe(true);
  const challenge = error.headers["WWW-Authenticate"];
  if (error.status === 503) {
    expect(error.headers["Retry-After"]).toMatch(/^[1-9]\d*$/);
    return;
  }
  expect(challenge).toMatch(/^Bearer realm="api"/);
  if (error.code === "missing_token") expect(challenge).toBe(BARE_CHALLENGE);
  else {
    expect(challenge).toBe(
      buildChallenge({
        realm: "api",
        error: error.code,
        error_description: error.description,
        ...(challenge?.includes(", scope=") === true
          ? { scope: /scope="([^"]*)"/.exec(challenge)?.[1] }
          : {}),
      }),
    );
  }
}
