import type { TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOGLE_ISSUER, GOOGLE_JWKS_URI, google } from "../src/index.js";
import { type App, closeApps, startApps } from "./adapters.js";
import { expectEvery, identityEverywhere, providerIssuer, quiet } from "./helpers.js";

const SERVICE_URL = "https://orders-abc123-ew.a.run.app";
const CALLER = "billing@my-project.iam.gserviceaccount.com";

// A Google-signed ID token for service-to-service calls (metadata server, format=full), as
// Google documents it.
const serviceClaims = {
  iss: GOOGLE_ISSUER,
  aud: SERVICE_URL,
  azp: "112233445566778899001",
  email: CALLER,
  email_verified: true,
  sub: "112233445566778899001",
};

describe("google()", () => {
  let issuer: TestIssuer;
  let apps: App[];

  beforeAll(async () => {
    issuer = await providerIssuer(GOOGLE_ISSUER);
    apps = await startApps(quiet(google({ audience: SERVICE_URL, jwksUri: issuer.jwksUri })), {
      // The documented guards: a verified email, and the one caller you expect.
      claims: [
        ["email_verified", true],
        ["email", CALLER],
      ],
    });
  });
  afterAll(async () => {
    await closeApps(apps);
    await issuer.close();
  });

  it("gives Google's issuer, keys and RS256", () => {
    expect(google({ audience: SERVICE_URL })).toEqual({
      issuer: "https://accounts.google.com",
      audience: SERVICE_URL,
      jwksUri: GOOGLE_JWKS_URI,
      algorithms: ["RS256"],
    });
    expect(GOOGLE_JWKS_URI).toBe("https://www.googleapis.com/oauth2/v3/certs");
  });

  it("accepts a service's ID token in every adapter", async () => {
    const token = await issuer.sign(serviceClaims);
    expect(await identityEverywhere(apps, token)).toEqual({
      sub: serviceClaims.sub,
      issuer: GOOGLE_ISSUER,
      roles: [],
      scopes: [],
    });
    await expectEvery(apps, token, 200, "/guarded");
  });

  it("refuses a token minted for another audience: any Google account can mint one", async () => {
    await expectEvery(
      apps,
      await issuer.sign({ ...serviceClaims, aud: "https://evil.example.com" }),
      401,
    );
  });

  it("lets the guards refuse an unverified email and another caller: 403", async () => {
    await expectEvery(
      apps,
      await issuer.sign({ ...serviceClaims, email_verified: false }),
      403,
      "/guarded",
    );
    const other = { ...serviceClaims, email: "intruder@other-project.iam.gserviceaccount.com" };
    await expectEvery(apps, await issuer.sign(other), 403, "/guarded");
  });

  it("checks a Workspace user's hosted domain (hd) with a guard", async () => {
    const hdApps = await startApps(
      quiet(google({ audience: SERVICE_URL, jwksUri: issuer.jwksUri })),
      {
        claims: [
          ["email_verified", true],
          ["hd", "example.com"],
        ],
      },
    );
    try {
      const user = { ...serviceClaims, email: "jane@example.com", hd: "example.com" };
      await expectEvery(hdApps, await issuer.sign(user), 200, "/guarded");
      await expectEvery(
        hdApps,
        await issuer.sign({ ...user, hd: undefined, email: "jane@gmail.com" }),
        403,
        "/guarded",
      );
    } finally {
      await closeApps(hdApps);
    }
  });

  it("refuses the legacy issuer form unless you list it yourself", async () => {
    await expectEvery(
      apps,
      await issuer.sign({ ...serviceClaims, iss: "accounts.google.com" }),
      401,
    );
  });

  it("has no way to skip the audience", () => {
    expect(() => google({ audience: null as unknown as string })).toThrow(/audience is required/);
  });
});
