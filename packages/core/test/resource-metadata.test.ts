import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  acrIn,
  authenticatedWithin,
  ConfigurationError,
  createVerifier,
  isAuthError,
  metadataResponse,
  RESOURCE_METADATA_PATH,
  type ResourceMetadataOptions,
  type VerifierOptions,
} from "../src/index.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});

afterAll(async () => {
  await issuer.close();
});

function verifierWith(extra: Partial<VerifierOptions>) {
  return createVerifier({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    logger: false,
    ...extra,
  } as VerifierOptions);
}

describe("resourceMetadata (RFC 9728)", () => {
  it("builds the document from one option, with DPoP's algorithms", () => {
    const verifier = verifierWith({
      resourceMetadata: {
        resource: "https://api.example.test",
        authorizationServers: ["https://auth.example.test"],
        scopesSupported: ["orders:read"],
        resourceName: "Orders",
      },
      dpop: { mode: "required", algorithms: ["ES256"] },
    });
    expect(verifier.resourceMetadata).toEqual({
      url: "https://api.example.test/.well-known/oauth-protected-resource",
      paths: ["/.well-known/oauth-protected-resource"],
      document: {
        resource: "https://api.example.test",
        authorization_servers: ["https://auth.example.test"],
        bearer_methods_supported: ["header"],
        scopes_supported: ["orders:read"],
        dpop_signing_alg_values_supported: ["ES256"],
        dpop_bound_access_tokens_required: true,
        resource_name: "Orders",
      },
    });
  });

  it("serves the path-suffixed form for a resource with a path (RFC 9728 §3.1)", () => {
    const metadata = verifierWith({
      resourceMetadata: {
        resource: "https://api.example.test/v1/mcp",
        authorizationServers: ["https://auth.example.test"],
      },
    }).resourceMetadata;
    expect(metadata?.url).toBe(
      "https://api.example.test/.well-known/oauth-protected-resource/v1/mcp",
    );
    expect(metadata?.paths).toEqual([
      RESOURCE_METADATA_PATH,
      "/.well-known/oauth-protected-resource/v1/mcp",
    ]);
    const answer = metadataResponse(
      metadata,
      "GET",
      "/.well-known/oauth-protected-resource/v1/mcp",
    );
    expect(answer?.status).toBe(200);
    expect(JSON.parse(answer?.body ?? "{}")).toMatchObject({
      resource: "https://api.example.test/v1/mcp",
    });
    expect(metadataResponse(metadata, "POST", RESOURCE_METADATA_PATH)?.status).toBe(405);
    expect(metadataResponse(metadata, "GET", "/other")).toBeUndefined();
  });

  it("lists query among the bearer methods only when query tokens are allowed", () => {
    const metadata = verifierWith({
      allowInsecureQueryToken: true,
      resourceMetadata: {
        resource: "https://api.example.test",
        authorizationServers: ["https://auth.example.test"],
      },
    }).resourceMetadata;
    expect(metadata?.document.bearer_methods_supported).toEqual(["header", "query"]);
  });

  it("refuses a resource that is not https (except loopback) and unknown names", () => {
    const bad: unknown[] = [
      { resource: "http://api.example.test", authorizationServers: ["https://a.example"] },
      { resource: "https://api.example.test?x=1", authorizationServers: ["https://a.example"] },
      { resource: "https://api.example.test", authorizationServers: [] },
      {
        resource: "https://api.example.test",
        authorizationServers: ["https://a.example"],
        scopes: [],
      },
    ];
    for (const resourceMetadata of bad) {
      expect(
        () => verifierWith({ resourceMetadata: resourceMetadata as ResourceMetadataOptions }),
        JSON.stringify(resourceMetadata),
      ).toThrow(ConfigurationError);
    }
    expect(
      verifierWith({
        resourceMetadata: {
          resource: "http://127.0.0.1:4000",
          authorizationServers: [issuer.issuer],
        },
      }).resourceMetadata?.url,
    ).toBe("http://127.0.0.1:4000/.well-known/oauth-protected-resource");
  });
});

describe("step-up rules (RFC 9470)", () => {
  it("refuse with 401 insufficient_user_authentication and the challenge's acr_values / max_age", async () => {
    const verifier = verifierWith({});
    const identity = await verifier.verify(
      await issuer.sign({ acr: "pwd", auth_time: Math.floor(Date.now() / 1000) - 120 }),
    );
    for (const [rule, attribute] of [
      [acrIn("phr", "phrh"), 'acr_values="phr phrh"'],
      [authenticatedWithin({ maxAgeSec: 60 }), 'max_age="60"'],
    ] as const) {
      let caught: unknown;
      try {
        verifier.authorize(identity, [rule]);
      } catch (error) {
        caught = error;
      }
      expect(isAuthError(caught)).toBe(true);
      if (!isAuthError(caught)) return;
      expect(caught.status).toBe(401);
      expect(caught.code).toBe("insufficient_user_authentication");
      expect(caught.headers["WWW-Authenticate"]).toContain(attribute);
    }
    expect(() => verifier.authorize(identity, [acrIn("pwd")])).not.toThrow();
    expect(() =>
      verifier.authorize(identity, [authenticatedWithin({ maxAgeSec: 300 })]),
    ).not.toThrow();
  });

  it("refuse bad arguments at start-up", () => {
    expect(() => acrIn()).toThrow(ConfigurationError);
    expect(() => authenticatedWithin({ maxAgeSec: -1 })).toThrow(ConfigurationError);
    expect(() => authenticatedWithin({} as { maxAgeSec: number })).toThrow(ConfigurationError);
  });
});
