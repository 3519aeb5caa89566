import { ConfigurationError, type MeishiEvent } from "@meishi/core";
import type { TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entra } from "../src/index.js";
import { type App, closeApps, startApps } from "./adapters.js";
import {
  expectClaimInvalid,
  expectEvery,
  identityEverywhere,
  providerIssuer,
  quiet,
} from "./helpers.js";

const CONTOSO = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const FABRIKAM = "0b9e4e4a-5c36-4c1f-9b5e-8e0b6f8c1a2d";
const STRANGER = "d3b07384-d113-4ec6-a4b2-9e0c5f1a7b3e";
const CLIENT_ID = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
const APP_ID_URI = `api://${CLIENT_ID}`;
const v2Issuer = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`;
const v1Issuer = (tid: string) => `https://sts.windows.net/${tid}/`;
// Entra's header: typ JWT, RS256, kid and x5t (the same thumbprint).
const ENTRA_HEADER = { header: { x5t: "nOo3ZDrODXEK1jKWhXslHR_KXEg" } };

// As the Microsoft identity platform documents its access tokens for your own API.
function v2Token(tid: string) {
  return {
    iss: v2Issuer(tid),
    aud: CLIENT_ID,
    aio: "AWQAm/8TAAAA",
    azp: "a1b2c3d4-0000-4000-8000-000000000001",
    azpacr: "0",
    name: "Jane Doe",
    oid: "00000000-0000-0000-66f3-3332eca7ea81",
    preferred_username: "jane@contoso.com",
    rh: "0.AAAA",
    roles: ["Orders.Admin"],
    scp: "Orders.Read Orders.Write",
    sub: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
    tid,
    uti: "fqiBqXLPj0eQa82S-IYFAA",
    ver: "2.0",
  };
}
function v1Token(tid: string) {
  return {
    iss: v1Issuer(tid),
    aud: APP_ID_URI,
    appid: "a1b2c3d4-0000-4000-8000-000000000001",
    appidacr: "0",
    idp: v1Issuer(tid),
    oid: "00000000-0000-0000-66f3-3332eca7ea81",
    roles: ["Orders.Admin"],
    scp: "Orders.Read",
    sub: "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA",
    tid,
    unique_name: "jane@contoso.com",
    uti: "fqiBqXLPj0eQa82S-IYFAA",
    ver: "1.0",
  };
}

describe("entra()", () => {
  let issuer: TestIssuer;
  let singleApps: App[];
  let bothVersionsApps: App[];
  let multiApps: App[];

  beforeAll(async () => {
    issuer = await providerIssuer(v2Issuer(CONTOSO));
    const jwksUri = issuer.jwksUri;
    singleApps = await startApps(
      quiet(entra({ tenantId: CONTOSO, audience: CLIENT_ID, jwksUri })),
      { role: "Orders.Admin", scope: "Orders.Write" },
    );
    bothVersionsApps = await startApps(
      quiet(
        entra({
          tenantId: CONTOSO,
          tokenVersion: "1+2",
          audience: [CLIENT_ID, APP_ID_URI],
          jwksUri,
        }),
      ),
    );
    multiApps = await startApps(
      quiet(
        entra({
          tenants: [CONTOSO, FABRIKAM],
          audience: CLIENT_ID,
          jwksUri,
        }),
      ),
    );
  });
  afterAll(async () => {
    await closeApps([...singleApps, ...bothVersionsApps, ...multiApps]);
    await issuer.close();
  });

  it("single-tenant v2: the tenant's v2.0 issuer and keys; v1: sts.windows.net and its keys", () => {
    expect(entra({ tenantId: CONTOSO, audience: CLIENT_ID })).toEqual({
      issuer: v2Issuer(CONTOSO),
      audience: CLIENT_ID,
      jwksUri: `https://login.microsoftonline.com/${CONTOSO}/discovery/v2.0/keys`,
      algorithms: ["RS256"],
      rolesClaim: "roles",
      claims: { tid: CONTOSO },
    });
    expect(entra({ tenantId: CONTOSO, tokenVersion: 1, audience: APP_ID_URI })).toMatchObject({
      issuer: v1Issuer(CONTOSO),
      jwksUri: `https://login.microsoftonline.com/${CONTOSO}/discovery/keys`,
      claims: { tid: CONTOSO },
    });
  });

  it("accepts a v2 access token in every adapter: app roles as roles, scp as scopes", async () => {
    const token = await issuer.sign(v2Token(CONTOSO), ENTRA_HEADER);
    expect(await identityEverywhere(singleApps, token)).toEqual({
      sub: v2Token(CONTOSO).sub,
      issuer: v2Issuer(CONTOSO),
      roles: ["Orders.Admin"],
      scopes: ["Orders.Read", "Orders.Write"],
    });
    await expectEvery(singleApps, token, 200, "/guarded");
  });

  it("refuses a v1 token on a v2 API, and another tenant's token", async () => {
    await expectEvery(singleApps, await issuer.sign(v1Token(CONTOSO), ENTRA_HEADER), 401);
    await expectEvery(singleApps, await issuer.sign(v2Token(FABRIKAM), ENTRA_HEADER), 401);
  });

  it('accepts both versions with tokenVersion "1+2" (v1 aud is the Application ID URI)', async () => {
    await expectEvery(bothVersionsApps, await issuer.sign(v1Token(CONTOSO), ENTRA_HEADER), 200);
    await expectEvery(bothVersionsApps, await issuer.sign(v2Token(CONTOSO), ENTRA_HEADER), 200);
  });

  it("multi-tenant: each allowed tenant's token passes, a stranger tenant's is refused", async () => {
    await expectEvery(
      multiApps,
      await issuer.sign(v2Token(CONTOSO), ENTRA_HEADER),
      200,
      "/guarded",
    );
    await expectEvery(
      multiApps,
      await issuer.sign(v2Token(FABRIKAM), ENTRA_HEADER),
      200,
      "/guarded",
    );
    await expectEvery(multiApps, await issuer.sign(v2Token(STRANGER), ENTRA_HEADER), 401);
  });

  it("multi-tenant: a token whose tid disagrees with its issuer is refused: 401", async () => {
    // Another allowed tenant's tid is no better: each issuer entry is bound to its own tenant.
    for (const tid of [STRANGER, FABRIKAM]) {
      const token = await issuer.sign({ ...v2Token(CONTOSO), tid }, ENTRA_HEADER);
      await expectClaimInvalid(multiApps, token, "tid", CONTOSO);
    }
    const fromFabrikam = await issuer.sign({ ...v2Token(FABRIKAM), tid: CONTOSO }, ENTRA_HEADER);
    await expectClaimInvalid(multiApps, fromFabrikam, "tid", FABRIKAM);
  });

  it("single-tenant: a token whose tid is not the tenant's is refused, v1 and v2: 401", async () => {
    const v2 = await issuer.sign({ ...v2Token(CONTOSO), tid: FABRIKAM }, ENTRA_HEADER);
    await expectClaimInvalid(singleApps, v2, "tid", CONTOSO);
    const v1 = await issuer.sign({ ...v1Token(CONTOSO), tid: FABRIKAM }, ENTRA_HEADER);
    await expectClaimInvalid(bothVersionsApps, v1, "tid", CONTOSO);
  });

  it("binds a tenant id given in capitals to the lower-case tid Entra writes", async () => {
    const apps = await startApps(
      quiet(
        entra({ tenantId: CONTOSO.toUpperCase(), audience: CLIENT_ID, jwksUri: issuer.jwksUri }),
      ),
    );
    try {
      await expectEvery(apps, await issuer.sign(v2Token(CONTOSO), ENTRA_HEADER), 200);
    } finally {
      await closeApps(apps);
    }
  });

  it("multi-tenant: one key source shared by every tenant (and verifier), reporting to onEvent", async () => {
    const events: MeishiEvent[] = [];
    const preset = entra({
      tenants: [CONTOSO, FABRIKAM],
      audience: CLIENT_ID,
      jwksUri: issuer.jwksUri,
      onEvent: (event) => events.push(event),
    });
    if (!("issuers" in preset) || preset.issuers === undefined) throw new Error("not multi-issuer");
    expect(preset.issuers.map((entry) => entry.issuer)).toEqual([
      v2Issuer(CONTOSO),
      v2Issuer(FABRIKAM),
    ]);
    expect(preset.issuers[0]!.keys).toBe(preset.issuers[1]!.keys);
    const apps = await startApps(quiet(preset));
    try {
      await expectEvery(apps, await issuer.sign(v2Token(CONTOSO), ENTRA_HEADER), 200);
      await expectEvery(apps, await issuer.sign(v2Token(FABRIKAM), ENTRA_HEADER), 200);
    } finally {
      await closeApps(apps);
    }
    // Two tenants, three adapters' verifiers, one key source: one fetch.
    expect(events.filter((event) => event.type === "jwks_fetched")).toHaveLength(1);
  });

  it("multi-tenant: keys come from the common endpoint, whatever the tenants", () => {
    const preset = entra({ tenants: [CONTOSO], audience: CLIENT_ID });
    if (!("issuers" in preset) || preset.issuers === undefined) throw new Error("not multi-issuer");
    expect((preset.issuers[0]!.keys as unknown as { status(): { uri: string } }).status().uri).toBe(
      "https://login.microsoftonline.com/common/discovery/v2.0/keys",
    );
  });

  it("refuses common, organizations and consumers as tenants, and malformed ids", () => {
    for (const pseudo of ["common", "organizations", "consumers"]) {
      expect(() => entra({ tenantId: pseudo, audience: CLIENT_ID })).toThrow(/list the tenants/);
      expect(() => entra({ tenants: [pseudo], audience: CLIENT_ID })).toThrow(/list the tenants/);
    }
    expect(() => entra({ tenantId: "contoso.onmicrosoft.com", audience: CLIENT_ID })).toThrow(
      ConfigurationError,
    );
    expect(() => entra({ audience: CLIENT_ID })).toThrow(/tenantId .* or tenants/);
  });
});
