import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  anyRole,
  authorize,
  authorizeRequest,
  ConfigurationError,
  claimMatches,
  createRequestAuthenticator,
  createVerifier,
  defineGuards,
  type Identity,
  InsufficientScopeError,
  InvalidTokenError,
  type MeishiEvent,
  MissingTokenError,
} from "../src/index.node.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

const context = { caller: "jwtAuth() from @meishi/test" };

interface FakeFrameworkRequest {
  token?: string;
}

describe("createRequestAuthenticator", () => {
  it("builds one verifier from options and authenticates framework requests", async () => {
    const auth = createRequestAuthenticator<FakeFrameworkRequest>(
      {
        jwksUri: issuer.jwksUri,
        issuer: issuer.issuer,
        audience: issuer.audience,
        optional: true,
      },
      context,
    );
    const token = await issuer.sign({ sub: "a" });
    const headers = { authorization: `Bearer ${token}` };
    expect((await auth.authenticate({}, { headers }))?.sub).toBe("a");
    await expect(auth.authenticate({}, { headers: {} })).resolves.toBeUndefined();
    await expect(auth.authenticate({}, { headers: {} }, false)).rejects.toBeInstanceOf(
      MissingTokenError,
    );
  });

  it("reads the token with getToken(req), and lets an application bug through as is", async () => {
    const auth = createRequestAuthenticator<FakeFrameworkRequest>(
      {
        jwksUri: issuer.jwksUri,
        issuer: issuer.issuer,
        audience: issuer.audience,
        getToken: (req) => {
          if (req.token === "boom") throw new RangeError("bug in getToken");
          return req.token;
        },
      },
      context,
    );
    const token = await issuer.sign({ sub: "b" });
    expect((await auth.authenticate({ token }, { headers: {} }))?.sub).toBe("b");
    await expect(auth.authenticate({}, { headers: {} })).rejects.toBeInstanceOf(MissingTokenError);
    await expect(auth.authenticate({ token: "boom" }, { headers: {} })).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(auth.authenticate({ token: "x.y.z" }, { headers: {} })).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it("accepts the shorthand and a shared verifier", async () => {
    const verifier = createVerifier({ jwksUri: issuer.jwksUri, issuer: null, audience: null });
    const shared = createRequestAuthenticator<FakeFrameworkRequest>({ verifier }, context);
    expect(shared.verifier).toBe(verifier);
    const shorthand = createRequestAuthenticator<FakeFrameworkRequest>(
      new URL(issuer.jwksUri),
      context,
    );
    const headers = { authorization: `Bearer ${await issuer.sign({ sub: "c" })}` };
    expect((await shorthand.authenticate({}, { headers }))?.sub).toBe("c");
  });
});

describe("guards outside the verifier", () => {
  it("use the realm and event listener of the verifier that made the identity", async () => {
    const events: MeishiEvent[] = [];
    const verifier = createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      realm: "orders",
      onEvent: (event) => events.push(event),
    });
    const identity = await verifier.verify(await issuer.sign({ tenant: "t1", level: 3 }));
    expect(() => authorize(identity, [claimMatches("tenant", "t1")])).not.toThrow();
    expect(() =>
      authorize(identity, [
        claimMatches("level", (value) => typeof value === "number" && value > 2),
      ]),
    ).not.toThrow();
    let refusal: unknown;
    try {
      authorize(identity, [claimMatches("tenant", "t2")]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(InsufficientScopeError);
    expect((refusal as InsufficientScopeError).headers["WWW-Authenticate"]).toContain(
      'realm="orders"',
    );
    expect(events.at(-1)).toMatchObject({
      type: "token_rejected",
      reason: "claim_check_failed",
      status: 403,
    });
  });
});

describe("authorizeRequest", () => {
  it("answers a request without identity with its verifier's realm", async () => {
    const events: MeishiEvent[] = [];
    const auth = createRequestAuthenticator<FakeFrameworkRequest>(
      {
        jwksUri: issuer.jwksUri,
        issuer: issuer.issuer,
        audience: issuer.audience,
        realm: "orders",
        optional: true,
        onEvent: (event) => events.push(event),
      },
      context,
    );
    const req: FakeFrameworkRequest = {};
    const identity = await auth.authenticate(req, { headers: {} });
    let refusal: unknown;
    try {
      authorizeRequest(req, identity, [claimMatches("tenant", "t1")]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(MissingTokenError);
    expect((refusal as MissingTokenError).headers["WWW-Authenticate"]).toBe(
      'Bearer realm="orders"',
    );
    expect(events.at(-1)).toMatchObject({ type: "token_rejected", reason: "missing_token" });
  });

  it("tells a guard without authentication apart: reason, one warning, plain 401", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const refusals: unknown[] = [];
      for (const req of [{}, {}]) {
        try {
          authorizeRequest(req, undefined, [anyRole("admin")]);
        } catch (error) {
          refusals.push(error);
        }
      }
      for (const refusal of refusals) {
        expect(refusal).toBeInstanceOf(MissingTokenError);
        expect(refusal).toMatchObject({
          status: 401,
          reason: "guard_without_authentication",
          headers: { "WWW-Authenticate": 'Bearer realm="api"' },
        });
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      const ours = warnings.filter(
        (warning) => (warning as { code?: string }).code === "MEISHI_GUARD_WITHOUT_AUTH",
      );
      expect(ours).toHaveLength(1);
      expect(ours[0]?.message).toMatch(/Mount jwtAuth\(\) before the guard/);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("createRequestAuthenticator refuses a missing or odd argument naming the call", () => {
  it.each([
    ["nothing", undefined],
    ["null", null],
    ["number", 42],
    ["boolean", true],
  ])("%s", (got, value) => {
    expect(() => createRequestAuthenticator(value as unknown as string, context)).toThrowError(
      new ConfigurationError(
        `jwtAuth() from @meishi/test: pass a JWKS URL or options such as { jwksUri, issuer, audience }, got ${got}`,
      ),
    );
  });

  it("a getToken that is not a function", () => {
    expect(() =>
      createRequestAuthenticator(
        {
          verifier: createVerifier({ jwksUri: issuer.jwksUri, issuer: null, audience: null }),
          getToken: "x" as never,
        },
        context,
      ),
    ).toThrowError(
      new ConfigurationError("jwtAuth() from @meishi/test: getToken must be a function"),
    );
  });
});

describe("defineGuards", () => {
  const guards = defineGuards("@meishi/test", (rule) => rule);

  it("builds each guard's rule once, through the adapter's wrap", () => {
    const identity = {
      roles: ["a"],
      scopes: ["s"],
      claims: { tenant: "t" },
    } as unknown as Identity;
    expect(guards.requireRole("x", "a").test(identity)).toBe(true);
    expect(guards.requireAllRoles("x", "a").test(identity)).toBe(false);
    expect(guards.requireScope("s").challengeScopes).toEqual(["s"]);
    expect(guards.requireAnyScope("x", "s").test(identity)).toBe(true);
    expect(guards.requireClaim("tenant", "t").test(identity)).toBe(true);
  });

  it.each([
    [() => guards.requireRole(), "requireRole() from @meishi/test: name at least one role"],
    [
      () => guards.requireRole(["a", "b"] as unknown as string),
      'requireRole() from @meishi/test: pass roles as separate arguments: requireRole("a", "b"), not an array',
    ],
    [
      () => guards.requireAnyScope(["s"] as unknown as string),
      'requireAnyScope() from @meishi/test: pass scopes as separate arguments: requireAnyScope("s"), not an array',
    ],
    [
      () => guards.requireAllRoles("a", 7 as unknown as string),
      "requireAllRoles() from @meishi/test: every role must be a non-empty string, got number",
    ],
    [
      () => guards.requireScope(""),
      'requireScope() from @meishi/test: every scope must be a non-empty string, got ""',
    ],
    [
      () => guards.requireClaim("", "x"),
      'requireClaim() from @meishi/test: the claim path must be a non-empty string or array of strings, got ""',
    ],
    [
      () => guards.requireClaim("tenant", undefined as unknown as string),
      "requireClaim() from @meishi/test: expected must be a string, number, boolean or function, got undefined",
    ],
  ])("refuses bad arguments with a ConfigurationError naming the call (%#)", (call, message) => {
    expect(call).toThrowError(new ConfigurationError(message));
    expect(call).toThrow(ConfigurationError);
  });
});
