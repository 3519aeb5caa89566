import { ConfigurationError } from "@meishi/core";
import type { TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cognito } from "../src/index.js";
import { type App, closeApps, startApps } from "./adapters.js";
import {
  expectClaimInvalid,
  expectEvery,
  expectRefusal,
  identityEverywhere,
  providerIssuer,
  quiet,
} from "./helpers.js";

const POOL = "eu-west-1_AbCdEf123";
const ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;
const CLIENT = "4b7o1l2n3m4k5j6h7g8f9e0d1c";
const OTHER_CLIENT = "9z8y7x6w5v4u3t2s1r0q9p8o7n";
// Cognito signs with RS256 and puts only `kid` and `alg` in the header.
const COGNITO_HEADER = { header: { typ: undefined } };

// As Amazon Cognito documents them: an access token names its app client in `client_id` and
// has no `aud`; an ID token names it in `aud` and has no `client_id`.
const accessClaims = {
  iss: ISSUER,
  sub: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  "cognito:groups": ["admin", "staff"],
  version: 2,
  client_id: CLIENT,
  origin_jti: "d8f0b4a6-1c2e-4f3a-9b5d-7e6f8a9b0c1d",
  event_id: "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b",
  token_use: "access",
  scope: "aws.cognito.signin.user.admin orders/read",
  auth_time: Math.floor(Date.now() / 1000),
  jti: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
  username: "jane",
};
const idClaims = {
  iss: ISSUER,
  sub: accessClaims.sub,
  aud: CLIENT,
  "cognito:groups": ["admin", "staff"],
  email_verified: true,
  "cognito:username": "jane",
  origin_jti: accessClaims.origin_jti,
  event_id: accessClaims.event_id,
  token_use: "id",
  auth_time: accessClaims.auth_time,
  email: "jane@example.com",
};

describe("cognito()", () => {
  let issuer: TestIssuer;
  let accessApps: App[];
  let idApps: App[];

  beforeAll(async () => {
    issuer = await providerIssuer(ISSUER, ["RS256", "ES256"]);
    const jwksUri = issuer.jwksUri;
    accessApps = await startApps(
      quiet(cognito({ userPoolId: POOL, tokenUse: "access", clientId: CLIENT, jwksUri })),
      { role: "admin" },
    );
    idApps = await startApps(
      quiet(cognito({ userPoolId: POOL, tokenUse: "id", clientId: CLIENT, jwksUri })),
      { role: "admin" },
    );
  });
  afterAll(async () => {
    await closeApps([...accessApps, ...idApps]);
    await issuer.close();
  });

  it("derives the issuer and JWKS from the pool id, and reads cognito:groups as roles", () => {
    expect(cognito({ userPoolId: POOL, tokenUse: "access", clientId: CLIENT })).toEqual({
      issuer: ISSUER,
      audience: null,
      jwksUri: `${ISSUER}/.well-known/jwks.json`,
      algorithms: ["RS256"],
      rolesClaim: "cognito:groups",
      requiredClaims: ["token_use", "client_id"],
      claims: { token_use: "access", client_id: CLIENT },
    });
    expect(cognito({ userPoolId: POOL, tokenUse: "id", clientId: CLIENT })).toMatchObject({
      audience: CLIENT,
      requiredClaims: ["token_use"],
      claims: { token_use: "id" },
    });
    // null accepts every app client: client_id must be there, any value.
    expect(cognito({ userPoolId: POOL, tokenUse: "access", clientId: null }).claims).toEqual({
      token_use: "access",
    });
  });

  it("accepts an access token in every adapter, groups as roles and scopes from scope", async () => {
    const token = await issuer.sign(accessClaims, COGNITO_HEADER);
    expect(await identityEverywhere(accessApps, token)).toEqual({
      sub: accessClaims.sub,
      issuer: ISSUER,
      roles: ["admin", "staff"],
      scopes: ["aws.cognito.signin.user.admin", "orders/read"],
    });
    await expectEvery(accessApps, token, 200, "/guarded");
  });

  it("refuses an ID token where access tokens are expected (no client_id): 401", async () => {
    await expectRefusal(accessApps, await issuer.sign(idClaims, COGNITO_HEADER), "claim_missing", {
      check: "client_id",
      message: expect.any(String),
    });
  });

  it("refuses a token whose token_use is not access, even with the right client_id: 401", async () => {
    const token = await issuer.sign({ ...accessClaims, token_use: "id" }, COGNITO_HEADER);
    await expectClaimInvalid(accessApps, token, "token_use", "access");
  });

  it("refuses another app client's access token by its client_id: 401", async () => {
    const token = await issuer.sign({ ...accessClaims, client_id: OTHER_CLIENT }, COGNITO_HEADER);
    await expectClaimInvalid(accessApps, token, "client_id", CLIENT);
  });

  it("accepts any of several app clients, and every client with clientId null", async () => {
    const jwksUri = issuer.jwksUri;
    const several = await startApps(
      quiet(
        cognito({
          userPoolId: POOL,
          tokenUse: "access",
          clientId: [CLIENT, OTHER_CLIENT],
          jwksUri,
        }),
      ),
    );
    const anyClient = await startApps(
      quiet(cognito({ userPoolId: POOL, tokenUse: "access", clientId: null, jwksUri })),
    );
    try {
      const other = await issuer.sign({ ...accessClaims, client_id: OTHER_CLIENT }, COGNITO_HEADER);
      await expectEvery(several, other, 200);
      const stranger = await issuer.sign({ ...accessClaims, client_id: "x" }, COGNITO_HEADER);
      await expectClaimInvalid(several, stranger, "client_id", [CLIENT, OTHER_CLIENT]);
      await expectEvery(anyClient, stranger, 200);
      // Even with every client accepted, an ID-token-shaped token_use is refused.
      const notAccess = await issuer.sign({ ...accessClaims, token_use: "id" }, COGNITO_HEADER);
      await expectClaimInvalid(anyClient, notAccess, "token_use", "access");
    } finally {
      await closeApps([...several, ...anyClient]);
    }
  });

  it("accepts an ID token for the client and refuses access tokens and other clients' ID tokens", async () => {
    const identity = await identityEverywhere(idApps, await issuer.sign(idClaims, COGNITO_HEADER));
    expect(identity.roles).toEqual(["admin", "staff"]);
    await expectEvery(idApps, await issuer.sign(accessClaims, COGNITO_HEADER), 401);
    await expectEvery(
      idApps,
      await issuer.sign({ ...idClaims, aud: OTHER_CLIENT }, COGNITO_HEADER),
      401,
    );
  });

  it("refuses a token for the client whose token_use is not id: 401", async () => {
    const token = await issuer.sign({ ...idClaims, token_use: "access" }, COGNITO_HEADER);
    await expectClaimInvalid(idApps, token, "token_use", "id");
  });

  it("keeps its own checks when you add claims of yours, in every adapter", async () => {
    const merged = await startApps(
      quiet(
        cognito({
          userPoolId: POOL,
          tokenUse: "access",
          clientId: CLIENT,
          // Yours: only this user name; and a try at widening client_id, which cannot widen it.
          claims: { username: "jane", client_id: [CLIENT, OTHER_CLIENT] },
          jwksUri: issuer.jwksUri,
        }),
      ),
    );
    try {
      await expectEvery(merged, await issuer.sign(accessClaims, COGNITO_HEADER), 200);
      const bob = await issuer.sign({ ...accessClaims, username: "bob" }, COGNITO_HEADER);
      await expectClaimInvalid(merged, bob, "username", "jane");
      const other = await issuer.sign({ ...accessClaims, client_id: OTHER_CLIENT }, COGNITO_HEADER);
      await expectClaimInvalid(merged, other, "client_id", CLIENT);
      const notAccess = await issuer.sign({ ...accessClaims, token_use: "id" }, COGNITO_HEADER);
      await expectClaimInvalid(merged, notAccess, "token_use", "access");
    } finally {
      await closeApps(merged);
    }
  });

  it("refuses a token signed with anything but RS256, even by a published key", async () => {
    await expectEvery(
      accessApps,
      await issuer.sign(accessClaims, { ...COGNITO_HEADER, alg: "ES256" }),
      401,
    );
  });

  it("refuses a token from another pool", async () => {
    const token = await issuer.sign(
      { ...accessClaims, iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other999" },
      COGNITO_HEADER,
    );
    await expectEvery(accessApps, token, 401);
  });

  it("refuses a malformed pool id, a region that disagrees with it, and a missing clientId", () => {
    expect(() => cognito({ userPoolId: "AbCdEf123", tokenUse: "id", clientId: CLIENT })).toThrow(
      ConfigurationError,
    );
    expect(() =>
      cognito({ userPoolId: POOL, region: "us-east-1", tokenUse: "id", clientId: CLIENT }),
    ).toThrow(/disagrees/);
    expect(() =>
      cognito({ userPoolId: POOL, tokenUse: "access" } as unknown as Parameters<typeof cognito>[0]),
    ).toThrow(/clientId is required/);
    expect(() => cognito({ userPoolId: POOL, tokenUse: "access", clientId: [] })).toThrow(
      /clientId must be a non-empty string or a non-empty array/,
    );
  });
});
