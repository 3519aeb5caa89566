import { ConfigurationError } from "@meishi/core";
import { jwtAuth } from "@meishi/express";
import type { TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Auth0Options, auth0 } from "../src/index.js";
import { type App, closeApps, startApps } from "./adapters.js";
import { expectEvery, identityEverywhere, providerIssuer, quiet } from "./helpers.js";

const DOMAIN = "meishi-test.eu.auth0.com";
const ISSUER = `https://${DOMAIN}/`;
const API = "https://orders.example.com";

// An Auth0 access token for a user, as Auth0 documents it: `aud` holds the API and the userinfo
// endpoint when `openid` was asked for; RBAC puts `permissions` beside `scope`.
const userClaims = {
  iss: ISSUER,
  sub: "auth0|64f1c0a3b2d4e5f6a7b8c9d0",
  aud: [API, `${ISSUER}userinfo`],
  azp: "kXjZ2pQ9rT1vW3yA5bC7dE9fG1hJ3kL5",
  scope: "openid profile read:orders",
  permissions: ["read:orders", "delete:orders"],
};

describe("auth0()", () => {
  let issuer: TestIssuer;
  let apps: App[];

  beforeAll(async () => {
    issuer = await providerIssuer(ISSUER, ["RS256", "PS256"]);
    const options = auth0({ domain: DOMAIN, audience: API, jwksUri: issuer.jwksUri });
    apps = await startApps(quiet(options), { role: "delete:orders" });
  });
  afterAll(async () => {
    await closeApps(apps);
    await issuer.close();
  });

  it("gives Auth0's issuer (trailing slash), JWKS, algorithms and permissions as roles", () => {
    expect(auth0({ domain: DOMAIN, audience: API })).toEqual({
      issuer: ISSUER,
      audience: API,
      jwksUri: `https://${DOMAIN}/.well-known/jwks.json`,
      algorithms: ["RS256", "PS256"],
      rolesClaim: "permissions",
    });
    expect(auth0({ domain: `https://${DOMAIN}/`, audience: API }).issuer).toBe(ISSUER);
  });

  it("accepts a user's access token in every adapter, with permissions as roles", async () => {
    const token = await issuer.sign(userClaims);
    const identity = await identityEverywhere(apps, token);
    expect(identity).toEqual({
      sub: userClaims.sub,
      issuer: ISSUER,
      roles: ["read:orders", "delete:orders"],
      scopes: ["openid", "profile", "read:orders"],
    });
    await expectEvery(apps, token, 200, "/guarded");
  });

  it("accepts a machine-to-machine token (client credentials, RFC 9068 at+jwt, PS256)", async () => {
    const token = await issuer.sign(
      {
        iss: ISSUER,
        sub: "kXjZ2pQ9rT1vW3yA5bC7dE9fG1hJ3kL5@clients",
        aud: API,
        gty: "client-credentials",
        azp: "kXjZ2pQ9rT1vW3yA5bC7dE9fG1hJ3kL5",
        scope: "read:orders",
        permissions: ["read:orders"],
      },
      { alg: "PS256", header: { typ: "at+jwt" } },
    );
    expect((await identityEverywhere(apps, token)).roles).toEqual(["read:orders"]);
    await expectEvery(apps, token, 403, "/guarded");
  });

  it("verifies with keys given up front (air-gapped), fetching nothing", async () => {
    const jwks = (await (await fetch(issuer.jwksUri)).json()) as NonNullable<Auth0Options["keys"]>;
    issuer.resetRequestCounts();
    const offline = await startApps(quiet(auth0({ domain: DOMAIN, audience: API, keys: jwks })));
    try {
      await expectEvery(offline, await issuer.sign(userClaims), 200);
      expect(issuer.requests.total).toBe(0);
    } finally {
      await closeApps(offline);
    }
  });

  it("refuses the issuer without its trailing slash, another API's token, and an ID token", async () => {
    await expectEvery(apps, await issuer.sign({ ...userClaims, iss: `https://${DOMAIN}` }), 401);
    await expectEvery(
      apps,
      await issuer.sign({ ...userClaims, aud: "https://other.example.com" }),
      401,
    );
    // An ID token's audience is the application's client id, never the API.
    await expectEvery(apps, await issuer.sign({ ...userClaims, aud: userClaims.azp }), 401);
  });

  it("refuses a domain with a path, and an unknown option with a hint", () => {
    expect(() => auth0({ domain: `${DOMAIN}/api`, audience: API })).toThrow(ConfigurationError);
    const misspelt = { ...auth0({ domain: DOMAIN, audience: API }), rolesClaims: "roles" };
    expect(() => jwtAuth(misspelt)).toThrow(/did you mean rolesClaim/);
  });
});
