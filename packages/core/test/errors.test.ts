import { createTestIssuer } from "@meishi/testing";
import { describe, expect, it } from "vitest";
import {
  AuthError,
  buildChallenge,
  ConfigurationError,
  createVerifier,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isAuthError,
  MissingTokenError,
  ServiceUnavailableError,
} from "../src/index.node.js";

describe("errors", () => {
  it("carry status, statusCode, expose, code and an RFC 6750 challenge", () => {
    const cases: [AuthError, number, string, string | undefined][] = [
      [new MissingTokenError(), 401, "missing_token", 'Bearer realm="api"'],
      [
        new InvalidRequestError({ description: "bad" }),
        400,
        "invalid_request",
        'Bearer realm="api", error="invalid_request", error_description="bad"',
      ],
      [
        new InvalidTokenError({ realm: "r" }),
        401,
        "invalid_token",
        'Bearer realm="r", error="invalid_token", error_description="The access token is invalid"',
      ],
      [
        new InsufficientScopeError({ scopes: ["a", "b"], description: "no" }),
        403,
        "insufficient_scope",
        'Bearer realm="api", error="insufficient_scope", error_description="no", scope="a b"',
      ],
      [
        new ServiceUnavailableError({ retryAfterSec: 2.2 }),
        503,
        "temporarily_unavailable",
        undefined,
      ],
    ];
    for (const [error, status, code, challenge] of cases) {
      expect(error.status).toBe(status);
      expect(error.statusCode).toBe(status);
      expect(error.code).toBe(code);
      expect(error.expose).toBe(status < 500);
      expect(error.headers["WWW-Authenticate"]).toBe(challenge);
      expect(error.message).toBe(error.description);
      expect(error.toJSON()).toEqual({ error: code, error_description: error.description });
      expect(error).toBeInstanceOf(AuthError);
      expect(isAuthError(error)).toBe(true);
    }
  });

  it("sends Retry-After on 503, rounded up to whole seconds", () => {
    expect(new ServiceUnavailableError({ retryAfterSec: 2.2 }).headers["Retry-After"]).toBe("3");
    expect(new ServiceUnavailableError({ retryAfterSec: 0 }).headers["Retry-After"]).toBe("1");
  });

  it("keeps quotes, backslashes and control characters out of the challenge", () => {
    const challenge = buildChallenge({ realm: 'a"b\\c\nd', error_description: "é" });
    expect(challenge).toBe("Bearer realm=\"a'b'c'd\", error_description=\"'\"");
  });

  it("names each class and keeps the cause for logs only", () => {
    const cause = new Error("secret detail");
    const error = new InvalidTokenError({ cause });
    expect(error.name).toBe("InvalidTokenError");
    expect(error.cause).toBe(cause);
    expect(error.message).not.toContain("secret");
    expect(new ConfigurationError("x")).toBeInstanceOf(TypeError);
    expect(new ConfigurationError("x").name).toBe("ConfigurationError");
  });

  it("isAuthError narrows on code, without instanceof, across copies of the package", () => {
    expect(isAuthError(new Error("plain"))).toBe(false);
    const foreign = Object.assign(new Error("x"), {
      code: "temporarily_unavailable",
      status: 503,
      reason: "keys_unavailable",
      headers: {},
      retryAfterSec: 7,
    });
    expect(isAuthError(foreign)).toBe(true);
    expect(isAuthError(Object.assign(new Error("x"), { ...foreign, code: "ENOENT" }))).toBe(false);
    const caught: unknown = new ServiceUnavailableError({ retryAfterSec: 9 });
    // Compiles only because the guard narrows to a union discriminated by `code`.
    if (isAuthError(caught) && caught.code === "temporarily_unavailable") {
      expect(caught.retryAfterSec).toBe(9);
    } else {
      expect.unreachable("a ServiceUnavailableError is an AuthError with its code");
    }
  });
});

describe("stack", () => {
  it("carries no call stack, so no default handler can print our internals", () => {
    const error = new InvalidTokenError({ cause: new Error("inner") });
    expect(error.stack).toBe("InvalidTokenError: The access token is invalid");
    expect(String(error.stack)).not.toMatch(/\bat\b|\.js:|\.ts:/);
  });
});

describe("refusals built without a stack", () => {
  it("leave the process's Error.stackTraceLimit as it was, so its own errors keep their stacks", async () => {
    const issuer = await createTestIssuer();
    const verifier = createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
    });
    const good = await issuer.sign({ sub: "u" });
    const [header, payload] = good.split(".");
    const before = Error.stackTraceLimit;
    Error.stackTraceLimit = 17;
    try {
      const refusals = [
        "not-a-jwt",
        `${header}.${payload}.${"A".repeat(342)}`, // bad signature, a full check
        `${header}.bm9wZQ.${good.split(".")[2]}`, // payload that is not JSON
        `eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUifQ.${payload}.AAAA`, // unknown kid
      ];
      for (const token of refusals) {
        await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401 });
      }
      expect(Error.stackTraceLimit).toBe(17);
      expect(new Error("ours").stack).toMatch(/\n\s+at /);
    } finally {
      Error.stackTraceLimit = before;
      await issuer.close();
    }
  });
});
