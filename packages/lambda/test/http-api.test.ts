import { anyRole, ConfigurationError } from "@meishi/core";
import { type AuthorizerRefusal, createHttpApiAuthorizer } from "@meishi/lambda";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpApiEvent, STAGE_ARN } from "./events.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

function authorizer(extra: Record<string, unknown> = {}, logs: AuthorizerRefusal[] = []) {
  return createHttpApiAuthorizer({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    routes: { "DELETE /orders/{id}": anyRole("admin") },
    onRefusal: (entry) => logs.push(entry),
    logger: false,
    ...extra,
  });
}

function policyAuthorizer(policyScope: "api" | "route") {
  return createHttpApiAuthorizer({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    routes: { "DELETE /orders/{id}": anyRole("admin") },
    response: "policy",
    policyScope,
  });
}

async function bearer(claims: Record<string, unknown> = {}, expiresInSec?: number) {
  const token = await issuer.sign(
    { sub: "00123", role: "standard user", scope: "orders:read orders:write", ...claims },
    expiresInSec === undefined ? {} : { expiresInSec },
  );
  return `Bearer ${token}`;
}

describe("createHttpApiAuthorizer, simple responses", () => {
  it("allows a valid token and returns sub, roles and scopes as context", async () => {
    const authorization = await bearer();
    const result = await authorizer()(httpApiEvent({ headers: { authorization } }));
    expect(result).toEqual({
      isAuthorized: true,
      context: {
        sub: "00123",
        iss: issuer.issuer,
        roles: '["standard user"]',
        scopes: "orders:read orders:write",
        exp: expect.any(Number),
      },
    });
  });

  it("answers isAuthorized: false for a valid token without the route's role, and logs why", async () => {
    const logs: AuthorizerRefusal[] = [];
    const authorization = await bearer();
    const result = await authorizer(
      {},
      logs,
    )(
      httpApiEvent({
        headers: { authorization },
        method: "DELETE",
        path: "/orders/42",
        routeKey: "DELETE /orders/{id}",
      }),
    );
    expect(result.isAuthorized).toBe(false);
    expect(logs).toEqual([
      {
        outcome: "deny",
        reason: "role_missing",
        route: "DELETE /orders/{id}",
        sub: "00123",
        details: expect.objectContaining({
          check: "role",
          expected: ["admin"],
          actual: ["standard user"],
        }),
      },
    ]);
  });

  it("applies a {param} rule to that route only, not to a deeper route API Gateway chose", async () => {
    const handler = authorizer({
      routes: { "GET /orders/{id}": anyRole("admin"), "GET /orders/{id}/items": [] },
    });
    const authorization = await bearer();
    const items = await handler(
      httpApiEvent({
        headers: { authorization },
        path: "/orders/1/items",
        routeKey: "GET /orders/{id}/items",
      }),
    );
    const order = await handler(
      httpApiEvent({ headers: { authorization }, path: "/orders/1", routeKey: "GET /orders/{id}" }),
    );
    expect(items.isAuthorized).toBe(true);
    expect(order.isAuthorized).toBe(false);
  });

  it("applies a GET rule to a GET on a route defined with ANY", async () => {
    const handler = authorizer({ routes: { "GET /reports": anyRole("admin") } });
    const authorization = await bearer();
    const result = await handler(
      httpApiEvent({ headers: { authorization }, path: "/reports", routeKey: "ANY /reports" }),
    );
    expect(result.isAuthorized).toBe(false);
  });

  it("matches the $default route by its path", async () => {
    const handler = authorizer({ routes: { "ANY /admin/*": anyRole("admin") } });
    const authorization = await bearer();
    const result = await handler(
      httpApiEvent({ headers: { authorization }, path: "/admin/users", routeKey: "$default" }),
    );
    expect(result.isAuthorized).toBe(false);
  });

  it("lets an admin through the admin route", async () => {
    const authorization = await bearer({ role: ["standard user", "admin"] });
    const result = await authorizer()(
      httpApiEvent({
        headers: { authorization },
        method: "DELETE",
        path: "/orders/42",
        routeKey: "DELETE /orders/{id}",
      }),
    );
    expect(result.isAuthorized).toBe(true);
  });

  it("throws Unauthorized (API Gateway's 401) for an expired token, logging token_expired", async () => {
    const logs: AuthorizerRefusal[] = [];
    const authorization = await bearer({}, -120);
    await expect(
      authorizer({}, logs)(httpApiEvent({ headers: { authorization } })),
    ).rejects.toThrow(/^Unauthorized$/);
    expect(logs).toEqual([
      {
        outcome: "unauthorized",
        reason: "token_expired",
        route: "GET /orders",
        details: expect.objectContaining({ check: "exp", actual: expect.any(Number) }),
      },
    ]);
  });

  it("still answers 401 and 403 when the onRefusal hook throws", async () => {
    const handler = authorizer({
      onRefusal: () => {
        throw new Error("audit sink down");
      },
    });
    await expect(handler(httpApiEvent())).rejects.toThrow(/^Unauthorized$/);
    const authorization = await bearer();
    const denied = await handler(
      httpApiEvent({
        headers: { authorization },
        method: "DELETE",
        path: "/orders/1",
        routeKey: "DELETE /orders/{id}",
      }),
    );
    expect(denied.isAuthorized).toBe(false);
  });

  it("throws Unauthorized when the Authorization header is missing", async () => {
    await expect(authorizer()(httpApiEvent())).rejects.toThrow(/^Unauthorized$/);
  });

  it("throws Unauthorized for a malformed token", async () => {
    await expect(
      authorizer()(httpApiEvent({ headers: { authorization: "Bearer not.a.jwt" } })),
    ).rejects.toThrow(/^Unauthorized$/);
  });

  it("throws Unauthorized when API Gateway joined two Authorization headers with a comma", async () => {
    const one = await bearer();
    const two = await bearer({ sub: "someone-else" });
    await expect(
      authorizer()(httpApiEvent({ headers: { authorization: `${one},${two}` } })),
    ).rejects.toThrow(/^Unauthorized$/);
  });

  it("reads the header whatever its letter case", async () => {
    const authorization = await bearer();
    const result = await authorizer()(httpApiEvent({ headers: { Authorization: authorization } }));
    expect(result.isAuthorized).toBe(true);
  });

  it("reads the token from payload 2.0's cookies array when cookieName is set", async () => {
    const token = (await bearer()).slice(7);
    const result = await authorizer({ cookieName: "session" })(
      httpApiEvent({ cookies: ["theme=dark", `session=${token}`] }),
    );
    expect(result.isAuthorized).toBe(true);
  });

  it("reads ?access_token= only when allowInsecureQueryToken is set", async () => {
    const token = (await bearer()).slice(7);
    const event = httpApiEvent({ rawQueryString: `access_token=${token}` });
    await expect(authorizer()(event)).rejects.toThrow(/^Unauthorized$/);
    const result = await authorizer({ allowInsecureQueryToken: true })(event);
    expect(result.isAuthorized).toBe(true);
  });

  it("fails with a 500-type error, not Unauthorized, when the JWKS is down with nothing cached", async () => {
    const logs: AuthorizerRefusal[] = [];
    const authorization = await bearer();
    issuer.setFault({ kind: "status", status: 500 }, { endpoint: "jwks" });
    try {
      const error = await authorizer(
        {},
        logs,
      )(httpApiEvent({ headers: { authorization } })).catch((caught: unknown) => caught as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(
        "meishi: cannot verify tokens right now (keys_unavailable)",
      );
      expect(logs).toEqual([
        { outcome: "error", reason: "keys_unavailable", route: "GET /orders" },
      ]);
    } finally {
      issuer.setFault(null);
    }
  });

  it("puts the outage reason in the thrown error and core's log by default", async () => {
    const lines: string[] = [];
    const logger = {
      warn: (_details: object, message: string) => lines.push(`warn ${message}`),
      error: (_details: object, message: string) => lines.push(`error ${message}`),
    };
    const handler = createHttpApiAuthorizer({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      logger,
    });
    const authorization = await bearer();
    issuer.setFault({ kind: "status", status: 500 }, { endpoint: "jwks" });
    try {
      await expect(handler(httpApiEvent({ headers: { authorization } }))).rejects.toThrow(
        "(keys_unavailable)",
      );
      expect(lines.some((line) => line.startsWith("error ") && line.includes(issuer.jwksUri))).toBe(
        true,
      );
    } finally {
      issuer.setFault(null);
    }
  });

  it("flattens custom context to strings, numbers and booleans", async () => {
    const authorization = await bearer({
      tenant: "t1",
      groups: ["a", "b"],
      address: { city: "Kyoto" },
    });
    const result = await authorizer({
      context: (identity: { claims: Record<string, unknown> }) => ({
        tenant: identity.claims.tenant,
        groups: identity.claims.groups,
        address: identity.claims.address,
        verified: true,
        level: 3,
        missing: null,
      }),
    })(httpApiEvent({ headers: { authorization } }));
    expect(result.context).toMatchObject({
      tenant: "t1",
      groups: '["a","b"]',
      address: '{"city":"Kyoto"}',
      verified: true,
      level: 3,
    });
    expect(result.context).not.toHaveProperty("missing");
  });
});

describe("createHttpApiAuthorizer, IAM policy responses", () => {
  it("allows the whole stage and denies the routes the caller may not use", async () => {
    const authorization = await bearer();
    const handler = policyAuthorizer("api");
    const result = await handler(httpApiEvent({ headers: { authorization } }));
    expect(result).toEqual({
      principalId: "00123",
      policyDocument: {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "execute-api:Invoke", Resource: `${STAGE_ARN}/*` },
          {
            Effect: "Deny",
            Action: "execute-api:Invoke",
            Resource: `${STAGE_ARN}/DELETE/orders/*`,
          },
        ],
      },
      context: expect.objectContaining({ sub: "00123" }),
    });
  });

  it("with policyScope route, covers only this routeArn", async () => {
    const authorization = await bearer();
    const result = await policyAuthorizer("route")(
      httpApiEvent({
        headers: { authorization },
        method: "DELETE",
        path: "/orders/7",
        routeKey: "DELETE /orders/{id}",
      }),
    );
    expect(result.policyDocument).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Deny", Action: "execute-api:Invoke", Resource: `${STAGE_ARN}/DELETE/orders/7` },
      ],
    });
  });
});

describe("configuration", () => {
  it("refuses a misspelt option at start-up instead of ignoring it", () => {
    expect(() => authorizer({ route: { "GET /orders": anyRole("admin") } })).toThrow(
      ConfigurationError,
    );
  });

  it("refuses a route key that is not VERB /path, at start-up", () => {
    expect(() => authorizer({ routes: { "/orders": anyRole("admin") } })).toThrow(
      ConfigurationError,
    );
  });
});
