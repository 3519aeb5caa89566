import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createTestIssuer, decodeTokenParts, type TestIssuer } from "@meishi/testing";
import Provider from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { multiIssuer, oidc } from "../src/index.js";
import { type App, closeApps, startApps } from "./adapters.js";
import { expectEvery, identityEverywhere, quiet } from "./helpers.js";

const RESOURCE = "https://orders.example.com";
const CLIENT_ID = "orders-batch";
const CLIENT_SECRET = "a-long-enough-secret-for-client-credentials";

function privateJwk(type: "rsa" | "ec", alg: string) {
  const { privateKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...privateKey.export({ format: "jwk" }), alg, use: "sig", kid: `${alg}-1` };
}

/** panva's oidc-provider on loopback: client credentials, resource indicators, JWT access tokens. */
async function startOpenIdProvider(): Promise<{ issuer: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const issuer = `http://127.0.0.1:${address.port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ["client_credentials"],
        redirect_uris: [],
        response_types: [],
      },
    ],
    ttl: { ClientCredentials: 300 },
    jwks: { keys: [privateJwk("rsa", "RS256"), privateJwk("ec", "ES256")] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        // RFC 8707: naming the resource makes the access token a JWT (RFC 9068) for that API.
        getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => ({
          scope: "orders:read orders:write",
          audience: resourceIndicator,
          accessTokenTTL: 300,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "ES256" } },
        }),
      },
    },
  });
  server.on("request", provider.callback());
  return { issuer, server };
}

async function clientCredentialsToken(issuer: string, scope: string): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "client_credentials", resource: RESOURCE, scope }),
  });
  const body = (await res.json()) as { access_token?: string; token_type?: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.access_token!;
}

describe("oidc() with a real OpenID provider (oidc-provider)", () => {
  let op: { issuer: string; server: Server };
  let apps: App[];

  beforeAll(async () => {
    op = await startOpenIdProvider();
    // Discovery only: no jwksUri, the keys are found from the provider's own metadata.
    apps = await startApps(quiet(oidc({ issuer: op.issuer, audience: RESOURCE, typ: "at+jwt" })), {
      scope: "orders:write",
    });
  });
  afterAll(async () => {
    await closeApps(apps);
    await new Promise<void>((resolve) => {
      op.server.closeAllConnections();
      op.server.close(() => resolve());
    });
  });

  it("accepts an at+jwt access token from a real client-credentials flow in every adapter", async () => {
    const token = await clientCredentialsToken(op.issuer, "orders:read orders:write");
    const { header, payload } = decodeTokenParts(token);
    expect(header).toMatchObject({ typ: "at+jwt", alg: "ES256" });
    expect(payload).toMatchObject({ iss: op.issuer, aud: RESOURCE, client_id: CLIENT_ID });
    expect(await identityEverywhere(apps, token)).toEqual({
      sub: CLIENT_ID,
      issuer: op.issuer,
      roles: [],
      scopes: ["orders:read", "orders:write"],
    });
    await expectEvery(apps, token, 200, "/guarded");
  });

  it("refuses a token without the scope a route needs: 403", async () => {
    const token = await clientCredentialsToken(op.issuer, "orders:read");
    await expectEvery(apps, token, 200);
    await expectEvery(apps, token, 403, "/guarded");
  });
});

describe("oidc() and multiIssuer()", () => {
  let first: TestIssuer;
  let second: TestIssuer;

  beforeAll(async () => {
    [first, second] = await Promise.all([createTestIssuer(), createTestIssuer()]);
  });
  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it("passes every issuer option through and checks typ when asked", async () => {
    expect(
      oidc({ issuer: first.issuer, audience: null, typ: "at+jwt", rolesClaim: "groups" }),
    ).toEqual({
      issuer: first.issuer,
      audience: null,
      typ: "at+jwt",
      rolesClaim: "groups",
    });
    const apps = await startApps(
      quiet(oidc({ issuer: first.issuer, audience: first.audience, typ: "at+jwt" })),
    );
    try {
      await expectEvery(apps, await first.sign({}, { header: { typ: "at+jwt" } }), 200);
      // An ID token (typ JWT) from the same issuer is not an access token.
      await expectEvery(apps, await first.sign(), 401);
    } finally {
      await closeApps(apps);
    }
  });

  it("routes each token to its own preset, by iss, in one list", async () => {
    const options = multiIssuer(
      oidc({ issuer: first.issuer, audience: first.audience, rolesClaim: "groups" }),
      oidc({ issuer: second.issuer, audience: second.audience }),
    );
    expect(options.issuers).toHaveLength(2);
    const apps = await startApps(quiet(options));
    try {
      const fromFirst = await identityEverywhere(apps, await first.sign({ groups: ["ops"] }));
      expect(fromFirst).toMatchObject({ issuer: first.issuer, roles: ["ops"] });
      const fromSecond = await identityEverywhere(apps, await second.sign({ role: "admin" }));
      expect(fromSecond).toMatchObject({ issuer: second.issuer, roles: ["admin"] });
      // The first issuer's keys, the second issuer's name: routed to the second, refused.
      await expectEvery(apps, await first.sign({ iss: second.issuer }), 401);
    } finally {
      await closeApps(apps);
    }
  });

  it("refuses an empty list", () => {
    expect(() => multiIssuer()).toThrow(/at least one preset/);
  });
});
