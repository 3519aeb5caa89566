import { createDpopClient, createTestIssuer, type TestIssuer } from "@meishi/testing";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import meishi, { authErrorHandler } from "../src/index.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ["ES256"] });
});

afterAll(() => issuer.close());

const RESOURCE = "https://api.example.test/v1";
const METADATA = "https://api.example.test/.well-known/oauth-protected-resource/v1";

async function app() {
  const fastify = Fastify();
  await fastify.register(meishi, {
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    logger: false,
    protectAllRoutes: true,
    dpop: { mode: "allowed", publicOrigin: "https://api.example.test" },
    resourceMetadata: { resource: RESOURCE, authorizationServers: [issuer.issuer] },
  });
  fastify.setErrorHandler(authErrorHandler);
  fastify.get("/v1/me", async (request) => ({ sub: request.auth?.sub }));
  await fastify.ready();
  return fastify;
}

describe("register(meishi) with resourceMetadata", () => {
  it("serves both well-known forms without a token, even with protectAllRoutes", async () => {
    const fastify = await app();
    try {
      for (const url of [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/v1",
      ]) {
        const res = await fastify.inject({ url });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({
          resource: RESOURCE,
          authorization_servers: [issuer.issuer],
        });
      }
    } finally {
      await fastify.close();
    }
  });

  it("links the path-suffixed form from every 401 challenge", async () => {
    const fastify = await app();
    try {
      const res = await fastify.inject({ url: "/v1/me" });
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toContain(`resource_metadata="${METADATA}"`);
    } finally {
      await fastify.close();
    }
  });

  it("sets a DPoP-bound request's identity", async () => {
    const fastify = await app();
    try {
      const client = await createDpopClient();
      const token = await issuer.sign({ sub: "holder", cnf: { jkt: client.jkt } });
      const proof = await client.proof("GET", "https://api.example.test/v1/me", {
        accessToken: token,
      });
      const res = await fastify.inject({
        url: "/v1/me",
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ sub: "holder" });
    } finally {
      await fastify.close();
    }
  });
});
