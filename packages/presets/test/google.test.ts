import type { TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOGLE_ISSUER, GOOGLE_JWKS_URI, google } from "../src/index.js";
import { type App, closeApps, startApps } from "./adapters.js";
import {
  expectClaimInvalid,
  expectEvery,
  identityEverywhere,
  providerIssuer,
  quiet,
} from "./helpers.js";

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
    apps = await startApps(
      quiet(google({ audience: SERVICE_URL, email: CALLER, jwksUri: issuer.jwksUri })),
    );
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
    expect(
      google({ audience: SERVICE_URL, email: CALLER, hostedDomain: "example.com" }),
    ).toMatchObject({
      claims: { email_verified: true, email: CALLER, hd: "example.com" },
    });
    // hd alone: Google sets it only for Workspace accounts, whatever email_verified says.
    expect(google({ audience: SERVICE_URL, hostedDomain: ["a.com", "b.com"] }).claims).toEqual({
      hd: ["a.com", "b.com"],
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

  it("refuses an unverified email and another caller when email is given: 401", async () => {
    const unverified = await issuer.sign({ ...serviceClaims, email_verified: false });
    await expectClaimInvalid(apps, unverified, "email_verified", true);
    // The string "true" is not the boolean Google writes.
    const stringly = await issuer.sign({ ...serviceClaims, email_verified: "true" });
    await expectClaimInvalid(apps, stringly, "email_verified", true);
    const other = { ...serviceClaims, email: "intruder@other-project.iam.gserviceaccount.com" };
    await expectClaimInvalid(apps, await issuer.sign(other), "email", CALLER);
  });

  it("checks a Workspace user's hosted domain (hd) with hostedDomain: 401 otherwise", async () => {
    const hdApps = await startApps(
      quiet(
        google({ audience: SERVICE_URL, hostedDomain: "example.com", jwksUri: issuer.jwksUri }),
      ),
    );
    try {
      const user = { ...serviceClaims, email: "jane@example.com", hd: "example.com" };
      await expectEvery(hdApps, await issuer.sign(user), 200);
      const gmail = { ...user, hd: undefined, email: "jane@gmail.com" };
      await expectClaimInvalid(hdApps, await issuer.sign(gmail), "hd", "example.com");
      const otherDomain = { ...user, hd: "example.org", email: "jane@example.org" };
      await expectClaimInvalid(hdApps, await issuer.sign(otherDomain), "hd", "example.com");
    } finally {
      await closeApps(hdApps);
    }
  });

  it("accepts any caller when neither email nor hostedDomain is given", async () => {
    const openApps = await startApps(
      quiet(google({ audience: SERVICE_URL, jwksUri: issuer.jwksUri })),
    );
    try {
      const stranger = { ...serviceClaims, email: "x@y.iam.gserviceaccount.com" };
      await expectEvery(openApps, await issuer.sign({ ...stranger, email_verified: false }), 200);
    } finally {
      await closeApps(openApps);
    }
  });

  it("refuses the legacy issuer form unless you list it yourself", async () => {
    await expectEvery(
      apps,
      await issuer.sign({ ...serviceClaims, iss: "accounts.google.com" }),
      401,
    );
  });

  it("has no way to skip the audience, and refuses an empty email or hostedDomain", () => {
    expect(() => google({ audience: null as unknown as string })).toThrow(/audience is required/);
    expect(() => google({ audience: SERVICE_URL, email: [] })).toThrow(/email must be/);
    expect(() => google({ audience: SERVICE_URL, hostedDomain: "" })).toThrow(
      /hostedDomain must be/,
    );
  });
});
