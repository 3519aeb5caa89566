import { ConfigurationError, createVerifier } from "@meishi/core";
import { describe, expect, it } from "vitest";
import { auth0, cognito, entra, google, keycloak, multiIssuer, okta } from "../src/index.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("preset options", () => {
  it("add your requiredClaims to the preset's, never replace them", () => {
    const options = cognito({
      userPoolId: "eu-west-1_AbCdEf123",
      tokenUse: "access",
      clientId: "abc",
      requiredClaims: ["username", "client_id"],
    });
    expect(options.requiredClaims).toEqual(["token_use", "client_id", "username"]);
  });

  it("add your claims to the preset's, and keep only the values both accept for a shared one", () => {
    const base = { userPoolId: "eu-west-1_AbCdEf123", tokenUse: "access" as const };
    expect(
      cognito({ ...base, clientId: ["a", "b"], claims: { scope: "orders/read" } }).claims,
    ).toEqual({ token_use: "access", client_id: ["a", "b"], scope: "orders/read" });
    // Narrowing: a token must pass the preset's check and yours.
    expect(
      cognito({ ...base, clientId: ["a", "b"], claims: { client_id: ["b", "c"] } }).claims,
    ).toEqual({ token_use: "access", client_id: "b" });
    // A wider list cannot widen the check; one with no value in common is refused at start-up.
    expect(
      cognito({ ...base, clientId: "a", claims: { token_use: ["access", "id"] } }).claims,
    ).toEqual({ token_use: "access", client_id: "a" });
    expect(() => cognito({ ...base, clientId: "a", claims: { token_use: "id" } })).toThrow(
      /claims\.token_use: the preset already requires "access", and no value passes both/,
    );
    expect(() =>
      keycloak({
        realmUrl: "https://sso.example.com/realms/shop",
        audience: null,
        claims: { typ: "ID" },
      }),
    ).toThrow(ConfigurationError);
    expect(() =>
      google({ audience: "x", claims: "email" as unknown as Record<string, string> }),
    ).toThrow(/claims must be an object/);
  });

  it("let keys replace the preset's jwksUri, and any issuer option override the preset's", () => {
    const keys = { keys: [] };
    const options = auth0({
      domain: "t.eu.auth0.com",
      audience: "api",
      keys,
      algorithms: ["ES256"],
    });
    expect(options).not.toHaveProperty("jwksUri");
    expect(options.keys).toBe(keys);
    expect(options.algorithms).toEqual(["ES256"]);
  });

  it("pin Entra's v1 common keys, and the authority for national clouds", () => {
    const v1 = entra({ tenants: [TENANT], tokenVersion: 1, audience: "api://x" });
    if (!("issuers" in v1) || v1.issuers === undefined) throw new Error("not multi-issuer");
    expect(v1.issuers[0]!.issuer).toBe(`https://sts.windows.net/${TENANT}/`);
    expect((v1.issuers[0]!.keys as unknown as { status(): { uri: string } }).status().uri).toBe(
      "https://login.microsoftonline.com/common/discovery/keys",
    );
    expect(
      entra({ tenantId: TENANT, audience: "x", authority: "login.microsoftonline.us" }),
    ).toMatchObject({
      issuer: `https://login.microsoftonline.us/${TENANT}/v2.0`,
      jwksUri: `https://login.microsoftonline.us/${TENANT}/discovery/v2.0/keys`,
    });
  });

  it("are accepted by createVerifier as they are (only real option names)", () => {
    const presets = [
      auth0({ domain: "t.eu.auth0.com", audience: "api" }),
      cognito({ userPoolId: "eu-west-1_AbCdEf123", tokenUse: "id", clientId: "abc" }),
      keycloak({
        realmUrl: "https://sso.example.com/realms/shop",
        audience: "api",
        clientId: "a.b",
      }),
      entra({ tenantId: TENANT, audience: "api", tokenVersion: "1+2" }),
      entra({ tenants: ["0b9e4e4a-5c36-4c1f-9b5e-8e0b6f8c1a2d"], audience: "api" }),
      okta({
        domain: "dev-1.okta.com",
        authorizationServerId: "default",
        audience: "api://default",
      }),
      google({ audience: "https://svc.example.com" }),
    ];
    for (const preset of presets) expect(() => createVerifier(preset)).not.toThrow();
    expect(() => createVerifier(multiIssuer(...presets))).not.toThrow();
  });

  it("refuse wrong types at compile time", () => {
    const misuse = [
      // @ts-expect-error tokenUse is "access" or "id"
      () => cognito({ userPoolId: "eu-west-1_AbCdEf123", tokenUse: "both", clientId: "abc" }),
      // @ts-expect-error Google's audience cannot be skipped
      () => google({ audience: null }),
      // @ts-expect-error the authorization server must be named (null for the org server)
      () => okta({ domain: "dev-1.okta.com", audience: "api://default" }),
      // @ts-expect-error Entra token versions are 1, 2 or "1+2"
      () => entra({ tenantId: TENANT, audience: "api", tokenVersion: 3 }),
    ];
    for (const call of misuse) expect(call).toThrow();
  });
});
