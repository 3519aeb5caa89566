import { allScopes, anyRole } from "@meishi/core";
import {
  type AuthorizerRefusal,
  createRequestAuthorizer,
  createTokenAuthorizer,
} from "@meishi/lambda";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestEvent, STAGE_ARN, tokenEvent } from "./events.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

function options(extra: Record<string, unknown> = {}) {
  return {
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    routes: { "DELETE /orders/*": anyRole("admin"), "ANY /admin/{proxy+}": anyRole("admin") },
    logger: false as const,
    ...extra,
  };
}

async function token(claims: Record<string, unknown> = {}, expiresInSec?: number) {
  return issuer.sign(
    { sub: "00123", role: "standard user", ...claims },
    expiresInSec === undefined ? {} : { expiresInSec },
  );
}

const allowAll = { Effect: "Allow", Action: "execute-api:Invoke", Resource: `${STAGE_ARN}/*` };

describe("createTokenAuthorizer", () => {
  it("returns an Allow policy for the stage with the identity in context", async () => {
    const result = await createTokenAuthorizer(options())(tokenEvent(`Bearer ${await token()}`));
    expect(result).toEqual({
      principalId: "00123",
      policyDocument: {
        Version: "2012-10-17",
        Statement: [
          allowAll,
          {
            Effect: "Deny",
            Action: "execute-api:Invoke",
            Resource: [`${STAGE_ARN}/DELETE/orders/*`, `${STAGE_ARN}/*/admin/*`],
          },
        ],
      },
      context: {
        sub: "00123",
        iss: issuer.issuer,
        roles: '["standard user"]',
        scopes: "",
        exp: expect.any(Number),
      },
    });
  });

  it("keeps every context value a string, number or boolean", async () => {
    const result = await createTokenAuthorizer(
      options({ context: () => ({ list: [1, 2], nested: { a: 1 }, flag: false }) }),
    )(tokenEvent(`Bearer ${await token()}`));
    for (const value of Object.values(result.context)) {
      expect(["string", "number", "boolean"]).toContain(typeof value);
    }
    expect(result.context).toMatchObject({ list: "[1,2]", nested: '{"a":1}', flag: false });
  });

  it("answers the same caller-wide policy whichever route triggered it, so a cached policy is right for all", async () => {
    const bearer = `Bearer ${await token()}`;
    const handler = createTokenAuthorizer(options());
    const fromList = await handler(tokenEvent(bearer, "GET", "/orders"));
    const fromDelete = await handler(tokenEvent(bearer, "DELETE", "/orders/42"));
    expect(fromDelete.policyDocument).toEqual(fromList.policyDocument);
  });

  it("gives an admin the whole stage without any Deny", async () => {
    const result = await createTokenAuthorizer(options())(
      tokenEvent(`Bearer ${await token({ role: "admin" })}`, "DELETE", "/orders/42"),
    );
    expect(result.policyDocument.Statement).toEqual([allowAll]);
  });

  it("denies the whole stage when a rule for every route fails", async () => {
    const result = await createTokenAuthorizer(options({ rules: allScopes("orders:read") }))(
      tokenEvent(`Bearer ${await token()}`),
    );
    expect(result.policyDocument.Statement).toEqual([
      { Effect: "Deny", Action: "execute-api:Invoke", Resource: `${STAGE_ARN}/*` },
    ]);
  });

  it("with policyScope route, allows or denies exactly the methodArn", async () => {
    const handler = createTokenAuthorizer(options({ policyScope: "route" }));
    const bearer = `Bearer ${await token()}`;
    const allowed = await handler(tokenEvent(bearer, "GET", "/orders"));
    const denied = await handler(tokenEvent(bearer, "DELETE", "/orders/42"));
    expect(allowed.policyDocument.Statement).toEqual([
      { Effect: "Allow", Action: "execute-api:Invoke", Resource: `${STAGE_ARN}/GET/orders` },
    ]);
    expect(denied.policyDocument.Statement).toEqual([
      { Effect: "Deny", Action: "execute-api:Invoke", Resource: `${STAGE_ARN}/DELETE/orders/42` },
    ]);
  });

  it("throws Unauthorized for an expired token", async () => {
    await expect(
      createTokenAuthorizer(options())(tokenEvent(`Bearer ${await token({}, -60)}`)),
    ).rejects.toThrow(/^Unauthorized$/);
  });

  it("throws Unauthorized for an empty or non-Bearer authorizationToken", async () => {
    const handler = createTokenAuthorizer(options());
    await expect(handler(tokenEvent(""))).rejects.toThrow(/^Unauthorized$/);
    await expect(handler(tokenEvent("Basic dXNlcjpwYXNz"))).rejects.toThrow(/^Unauthorized$/);
  });

  it("throws Unauthorized for a malformed token", async () => {
    await expect(
      createTokenAuthorizer(options())(tokenEvent("Bearer eyJhbGciOiJSUzI1NiJ9.e30.SignatureHere")),
    ).rejects.toThrow(/^Unauthorized$/);
  });

  it("accepts a lowercase bearer scheme", async () => {
    const result = await createTokenAuthorizer(options())(tokenEvent(`bearer ${await token()}`));
    expect(result.principalId).toBe("00123");
  });

  it("fails with an error that is not Unauthorized for a methodArn that is not an execute-api ARN", async () => {
    await expect(
      createTokenAuthorizer(options())({
        type: "TOKEN",
        authorizationToken: `Bearer ${await token()}`,
        methodArn: "not-an-arn",
      }),
    ).rejects.toThrow(/not an execute-api ARN/);
  });
});

describe("createRequestAuthorizer", () => {
  it("reads Authorization as API Gateway forwards it, capitalised", async () => {
    const result = await createRequestAuthorizer(options())(
      requestEvent({ headers: { Authorization: `Bearer ${await token()}` } }),
    );
    expect(result.principalId).toBe("00123");
    expect(result.policyDocument.Statement[0]).toEqual(allowAll);
  });

  it("reads a lowercase authorization header", async () => {
    const result = await createRequestAuthorizer(options())(
      requestEvent({ headers: { authorization: `Bearer ${await token()}` } }),
    );
    expect(result.principalId).toBe("00123");
  });

  it("reads an upper-case AUTHORIZATION header", async () => {
    const result = await createRequestAuthorizer(options())(
      requestEvent({ headers: { AUTHORIZATION: `Bearer ${await token()}` } }),
    );
    expect(result.principalId).toBe("00123");
  });

  it("throws Unauthorized when the request carries two Authorization headers (multiValueHeaders)", async () => {
    const logs: AuthorizerRefusal[] = [];
    const one = `Bearer ${await token()}`;
    const two = `Bearer ${await token({ sub: "mallory" })}`;
    await expect(
      createRequestAuthorizer(
        options({ onRefusal: (entry: AuthorizerRefusal) => logs.push(entry) }),
      )(
        requestEvent({
          headers: { Authorization: two },
          multiValueHeaders: { Authorization: [one, two] },
        }),
      ),
    ).rejects.toThrow(/^Unauthorized$/);
    expect(logs.map((entry) => entry.reason)).toEqual(["multiple_credentials"]);
  });

  it("throws Unauthorized for a console test event whose header maps are null", async () => {
    const event = { ...requestEvent(), headers: null, multiValueHeaders: null };
    await expect(createRequestAuthorizer(options())(event)).rejects.toThrow(/^Unauthorized$/);
  });

  it("throws Unauthorized when the header is missing", async () => {
    await expect(createRequestAuthorizer(options())(requestEvent())).rejects.toThrow(
      /^Unauthorized$/,
    );
  });

  it("denies the route the caller lacks the role for, logging the template route", async () => {
    const logs: AuthorizerRefusal[] = [];
    const result = await createRequestAuthorizer(
      options({ onRefusal: (entry: AuthorizerRefusal) => logs.push(entry), policyScope: "route" }),
    )(
      requestEvent({
        headers: { Authorization: `Bearer ${await token()}` },
        method: "DELETE",
        resource: "/orders/{id}",
        path: "/orders/42",
      }),
    );
    expect(result.policyDocument.Statement).toEqual([
      { Effect: "Deny", Action: "execute-api:Invoke", Resource: `${STAGE_ARN}/DELETE/orders/42` },
    ]);
    expect(logs).toEqual([
      {
        outcome: "deny",
        reason: "role_missing",
        route: "DELETE /orders/{id}",
        sub: "00123",
        details: expect.objectContaining({ check: "role", expected: ["admin"] }),
      },
    ]);
  });
});
