import { ConfigurationError } from "@meishi/core";
import type { TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keycloak } from "../src/index.js";
import { type App, closeApps, startApps } from "./adapters.js";
import {
  expectClaimInvalid,
  expectEvery,
  identityEverywhere,
  providerIssuer,
  quiet,
} from "./helpers.js";

const REALM = "https://sso.example.com/realms/shop";
// A client id with dots: Keycloak allows them, and a dotted claim path could not name it.
const API_CLIENT = "orders.api";

// A Keycloak access token as the realm issues it: header typ "JWT", payload typ "Bearer",
// realm roles under realm_access, client roles under resource_access.<client id>.
const accessClaims = {
  iss: REALM,
  aud: [API_CLIENT, "account"],
  sub: "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
  typ: "Bearer",
  azp: "shop-frontend",
  sid: "0a1b2c3d-4e5f-4a6b-7c8d-9e0f1a2b3c4d",
  acr: "1",
  "allowed-origins": ["https://shop.example.com"],
  realm_access: { roles: ["default-roles-shop", "offline_access", "uma_authorization", "shopper"] },
  resource_access: {
    [API_CLIENT]: { roles: ["orders-admin"] },
    account: { roles: ["manage-account", "view-profile"] },
  },
  scope: "openid profile email",
  email_verified: true,
  preferred_username: "jane",
};

describe("keycloak()", () => {
  let issuer: TestIssuer;
  let apps: App[];
  let atJwtApps: App[];

  beforeAll(async () => {
    issuer = await providerIssuer(REALM);
    const options = { realmUrl: REALM, audience: API_CLIENT, clientId: API_CLIENT };
    apps = await startApps(
      quiet(keycloak({ ...options, authorizedParty: "shop-frontend", jwksUri: issuer.jwksUri })),
      { role: "orders-admin" },
    );
    atJwtApps = await startApps(
      quiet(keycloak({ ...options, jwksUri: issuer.jwksUri, typ: "at+jwt" })),
    );
  });
  afterAll(async () => {
    await closeApps([...apps, ...atJwtApps]);
    await issuer.close();
  });

  it("takes the realm URL as issuer, its certs endpoint as JWKS, realm and client roles", () => {
    expect(keycloak({ realmUrl: `${REALM}/`, audience: API_CLIENT, clientId: API_CLIENT })).toEqual(
      {
        issuer: REALM,
        audience: API_CLIENT,
        jwksUri: `${REALM}/protocol/openid-connect/certs`,
        rolesClaim: [
          ["realm_access", "roles"],
          ["resource_access", API_CLIENT, "roles"],
        ],
        claims: { typ: "Bearer" },
      },
    );
    expect(
      keycloak({ realmUrl: REALM, audience: null, authorizedParty: ["web", "cli"] }).claims,
    ).toEqual({ typ: "Bearer", azp: ["web", "cli"] });
    expect(
      keycloak({ realmUrl: REALM, audience: null, realmRoles: false, clientId: "x" }).rolesClaim,
    ).toEqual([["resource_access", "x", "roles"]]);
  });

  it("accepts an access token in every adapter: realm roles and the API client's roles only", async () => {
    const token = await issuer.sign(accessClaims);
    expect(await identityEverywhere(apps, token)).toEqual({
      sub: accessClaims.sub,
      issuer: REALM,
      roles: [
        "default-roles-shop",
        "offline_access",
        "uma_authorization",
        "shopper",
        "orders-admin",
      ],
      scopes: ["openid", "profile", "email"],
    });
    await expectEvery(apps, token, 200, "/guarded");
  });

  it("refuses an ID token: its aud is the frontend, and its payload typ is ID, not Bearer", async () => {
    const idToken = { ...accessClaims, typ: "ID", aud: "shop-frontend", at_hash: "x2Fq" };
    await expectEvery(apps, await issuer.sign(idToken), 401);
    // Even one whose aud names the API is refused by its typ.
    await expectClaimInvalid(
      apps,
      await issuer.sign({ ...idToken, aud: API_CLIENT }),
      "typ",
      "Bearer",
    );
    // A refresh token (typ Refresh) is no access token either, with or without the preset's azp.
    const refresh = await issuer.sign(
      { ...accessClaims, typ: "Refresh" },
      { header: { typ: "at+jwt" } },
    );
    await expectClaimInvalid(atJwtApps, refresh, "typ", "Bearer");
  });

  it("refuses a token obtained by a client other than the authorizedParty: 401", async () => {
    await expectClaimInvalid(
      apps,
      await issuer.sign({ ...accessClaims, azp: "evil-app" }),
      "azp",
      "shop-frontend",
    );
  });

  it("accepts any client's token (by azp) when no authorizedParty is given", async () => {
    await expectEvery(
      atJwtApps,
      await issuer.sign({ ...accessClaims, azp: "evil-app" }, { header: { typ: "at+jwt" } }),
      200,
    );
  });

  it("checks the at+jwt header type when the client is set to use it", async () => {
    await expectEvery(
      atJwtApps,
      await issuer.sign(accessClaims, { header: { typ: "at+jwt" } }),
      200,
    );
    await expectEvery(atJwtApps, await issuer.sign(accessClaims), 401);
  });

  it("refuses another realm, a realm URL without /realms/, and a preset reading no roles", async () => {
    await expectEvery(
      apps,
      await issuer.sign({ ...accessClaims, iss: "https://sso.example.com/realms/master" }),
      401,
    );
    expect(() => keycloak({ realmUrl: "https://sso.example.com", audience: null })).toThrow(
      ConfigurationError,
    );
    expect(() => keycloak({ realmUrl: REALM, audience: null, realmRoles: false })).toThrow(
      /no roles/,
    );
  });
});
