import { ConfigurationError } from "@meishi/core";
import type { TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { okta } from "../src/index.js";
import { type App, closeApps, startApps } from "./adapters.js";
import { expectEvery, identityEverywhere, providerIssuer, quiet } from "./helpers.js";

const DOMAIN = "dev-123456.okta.com";
const ORG = `https://${DOMAIN}`;
const CUSTOM = `${ORG}/oauth2/default`;
const CLIENT_ID = "0oa1b2c3d4e5f6g7h8i9";
// Okta puts only `kid` and `alg` in the header.
const OKTA_HEADER = { header: { typ: undefined } };

// An access token from a custom authorization server, as Okta documents it: `cid` is the
// client, `scp` an array, `groups` from a Groups claim added to the server.
const accessClaims = {
  ver: 1,
  jti: "AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE",
  iss: CUSTOM,
  aud: "api://default",
  cid: CLIENT_ID,
  uid: "00uid4BxXw6I6TV4m0g3",
  scp: ["orders.read", "openid"],
  auth_time: Math.floor(Date.now() / 1000),
  sub: "jane@example.com",
  groups: ["Everyone", "Order Admins"],
};
// An ID token from the org authorization server: `aud` is the client id.
const orgIdClaims = {
  ver: 1,
  jti: "ID.4eAWJOCMB3SX8XewDfVR",
  iss: ORG,
  aud: CLIENT_ID,
  sub: "00uid4BxXw6I6TV4m0g3",
  name: "Jane Doe",
  email: "jane@example.com",
  amr: ["pwd"],
  idp: "00ok1u7AsAkrwdZL3z0g3",
  auth_time: Math.floor(Date.now() / 1000),
  groups: ["Everyone"],
};

describe("okta()", () => {
  let custom: TestIssuer;
  let org: TestIssuer;
  let customApps: App[];
  let orgApps: App[];

  beforeAll(async () => {
    [custom, org] = await Promise.all([providerIssuer(CUSTOM), providerIssuer(ORG)]);
    customApps = await startApps(
      quiet(
        okta({
          domain: DOMAIN,
          authorizationServerId: "default",
          audience: "api://default",
          jwksUri: custom.jwksUri,
        }),
      ),
      { role: "Order Admins", scope: "orders.read" },
    );
    orgApps = await startApps(
      quiet(
        okta({
          domain: DOMAIN,
          authorizationServerId: null,
          audience: CLIENT_ID,
          jwksUri: org.jwksUri,
        }),
      ),
    );
  });
  afterAll(async () => {
    await closeApps([...customApps, ...orgApps]);
    await Promise.all([custom.close(), org.close()]);
  });

  it("gives the custom and the org authorization servers' issuers and key endpoints", () => {
    expect(
      okta({ domain: DOMAIN, authorizationServerId: "default", audience: "api://default" }),
    ).toEqual({
      issuer: CUSTOM,
      audience: "api://default",
      jwksUri: `${CUSTOM}/v1/keys`,
      algorithms: ["RS256"],
      rolesClaim: "groups",
    });
    expect(
      okta({ domain: DOMAIN, authorizationServerId: null, audience: CLIENT_ID }),
    ).toMatchObject({
      issuer: ORG,
      jwksUri: `${ORG}/oauth2/v1/keys`,
    });
  });

  it("accepts a custom authorization server's access token in every adapter: groups, scp", async () => {
    const token = await custom.sign(accessClaims, OKTA_HEADER);
    expect(await identityEverywhere(customApps, token)).toEqual({
      sub: "jane@example.com",
      issuer: CUSTOM,
      roles: ["Everyone", "Order Admins"],
      scopes: ["orders.read", "openid"],
    });
    await expectEvery(customApps, token, 200, "/guarded");
    await expectEvery(
      customApps,
      await custom.sign({ ...accessClaims, groups: ["Everyone"] }, OKTA_HEADER),
      403,
      "/guarded",
    );
  });

  it("accepts an org server ID token, and keeps the two servers apart", async () => {
    await expectEvery(orgApps, await org.sign(orgIdClaims, OKTA_HEADER), 200);
    // Signed by the right keys but naming the other server: refused both ways.
    await expectEvery(
      orgApps,
      await org.sign({ ...accessClaims, aud: CLIENT_ID }, OKTA_HEADER),
      401,
    );
    await expectEvery(
      customApps,
      await custom.sign({ ...accessClaims, iss: ORG }, OKTA_HEADER),
      401,
    );
  });

  it("needs authorizationServerId said out loud", () => {
    expect(() =>
      okta({ domain: DOMAIN, audience: "api://default" } as unknown as Parameters<typeof okta>[0]),
    ).toThrow(/authorizationServerId is required/);
    expect(() =>
      okta({ domain: "http://dev-1.okta.com", authorizationServerId: "default", audience: null }),
    ).toThrow(ConfigurationError);
  });
});
