import type { TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entra, GOOGLE_ISSUER, google, keycloak, multiIssuer } from "../src/index.js";
import { closeApps, startApps } from "./adapters.js";
import {
  expectClaimInvalid,
  expectEvery,
  identityEverywhere,
  providerIssuer,
  quiet,
} from "./helpers.js";

const REALM = "https://sso.example.com/realms/shop";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
const SERVICE_URL = "https://orders-abc123-ew.a.run.app";

describe("presets together", () => {
  let keycloakIssuer: TestIssuer;
  let entraIssuer: TestIssuer;
  let googleIssuer: TestIssuer;

  beforeAll(async () => {
    [keycloakIssuer, entraIssuer, googleIssuer] = await Promise.all([
      providerIssuer(REALM),
      providerIssuer(`https://login.microsoftonline.com/${TENANT}/v2.0`),
      providerIssuer(GOOGLE_ISSUER),
    ]);
  });
  afterAll(async () => {
    await Promise.all([keycloakIssuer.close(), entraIssuer.close(), googleIssuer.close()]);
  });

  it("route Keycloak, multi-tenant Entra and Google tokens each to their own rules", async () => {
    const options = multiIssuer(
      keycloak({ realmUrl: REALM, audience: "orders.api", jwksUri: keycloakIssuer.jwksUri }),
      entra({ tenants: [TENANT], audience: CLIENT_ID, jwksUri: entraIssuer.jwksUri }),
      google({ audience: SERVICE_URL, jwksUri: googleIssuer.jwksUri }),
    );
    const apps = await startApps(quiet(options));
    try {
      const fromKeycloak = await keycloakIssuer.sign({
        aud: "orders.api",
        typ: "Bearer",
        realm_access: { roles: ["shopper"] },
        roles: ["not-read-for-keycloak"],
      });
      expect((await identityEverywhere(apps, fromKeycloak)).roles).toEqual(["shopper"]);
      const fromEntra = await entraIssuer.sign({
        aud: CLIENT_ID,
        tid: TENANT,
        roles: ["Orders.Admin"],
      });
      expect((await identityEverywhere(apps, fromEntra)).roles).toEqual(["Orders.Admin"]);
      const fromGoogle = await googleIssuer.sign({
        aud: SERVICE_URL,
        email: "a@b.iam.gserviceaccount.com",
      });
      expect((await identityEverywhere(apps, fromGoogle)).issuer).toBe(GOOGLE_ISSUER);
      // Google's keys signing a token that names the Keycloak realm: routed to Keycloak's keys.
      await expectEvery(apps, await googleIssuer.sign({ iss: REALM, aud: "orders.api" }), 401);
      // Keycloak's audience on a Google token: Google's rules apply.
      await expectEvery(apps, await googleIssuer.sign({ aud: "orders.api" }), 401);
      // Each preset's claim checks stay with its own issuer: Entra's tid binding applies to
      // Entra tokens, Keycloak's typ to Keycloak tokens, and neither to Google's.
      await expectClaimInvalid(
        apps,
        await entraIssuer.sign({ aud: CLIENT_ID, tid: "0b9e4e4a-5c36-4c1f-9b5e-8e0b6f8c1a2d" }),
        "tid",
        TENANT,
      );
      await expectClaimInvalid(
        apps,
        await keycloakIssuer.sign({ aud: "orders.api", typ: "ID" }),
        "typ",
        "Bearer",
      );
    } finally {
      await closeApps(apps);
    }
  });

  it("accept Google's legacy issuer form when it is listed beside the preset", async () => {
    const apps = await startApps(
      quiet({
        ...google({ audience: SERVICE_URL, jwksUri: googleIssuer.jwksUri }),
        issuer: [GOOGLE_ISSUER, "accounts.google.com"],
      }),
    );
    try {
      await expectEvery(
        apps,
        await googleIssuer.sign({ iss: "accounts.google.com", aud: SERVICE_URL }),
        200,
      );
    } finally {
      await closeApps(apps);
    }
  });
});
