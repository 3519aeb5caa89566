import { createDpopClient, createTestIssuer, type TestIssuer } from "@meishi/testing";
import express from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authErrorHandler, jwtAuth } from "../src/index.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ["ES256"] });
});

afterAll(() => issuer.close());

const RESOURCE = "https://api.example.test";
const METADATA = `${RESOURCE}/.well-known/oauth-protected-resource`;

function app() {
  const server = express();
  server.use(
    jwtAuth({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      logger: false,
      dpop: { mode: "allowed" },
      resourceMetadata: { resource: RESOURCE, authorizationServers: [issuer.issuer] },
    }),
  );
  server.get("/me", (req, res) => {
    res.json({ sub: req.auth?.sub });
  });
  server.use(authErrorHandler());
  return server;
}

describe("jwtAuth() with resourceMetadata", () => {
  it("serves the RFC 9728 document without a token", async () => {
    const res = await request(app()).get("/.well-known/oauth-protected-resource").expect(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ["header"],
      dpop_bound_access_tokens_required: false,
    });
    await request(app()).head("/.well-known/oauth-protected-resource").expect(200);
    await request(app()).post("/.well-known/oauth-protected-resource").expect(405);
  });

  it("links it from every 401 challenge", async () => {
    const res = await request(app()).get("/me").expect(401);
    expect(res.headers["www-authenticate"]).toContain(`resource_metadata="${METADATA}"`);
  });

  it("sets a DPoP-bound request's identity", async () => {
    const client = await createDpopClient();
    const token = await issuer.sign({ sub: "holder", cnf: { jkt: client.jkt } });
    const proof = await client.proof("GET", `${RESOURCE}/me?x=1`, { accessToken: token });
    const res = await request(app())
      .get("/me?x=1")
      .set({ authorization: `DPoP ${token}`, dpop: proof })
      .expect(200);
    expect(res.body).toEqual({ sub: "holder" });
  });
});
