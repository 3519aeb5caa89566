import { createServer } from "node:http";
import { createDpopClient, createTestIssuer, type TestIssuer } from "@meishi/testing";
import Koa from "koa";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthState, authErrorHandler, jwtAuth } from "../src/index.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ["ES256"] });
});

afterAll(() => issuer.close());

const RESOURCE = "https://api.example.test";
const METADATA = `${RESOURCE}/.well-known/oauth-protected-resource`;

function app() {
  const koa = new Koa<AuthState>();
  koa.silent = true;
  koa.use(authErrorHandler());
  koa.use(
    jwtAuth({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      logger: false,
      dpop: { mode: "allowed" },
      resourceMetadata: { resource: RESOURCE, authorizationServers: [issuer.issuer] },
    }),
  );
  koa.use((ctx) => {
    ctx.body = { sub: ctx.state.auth?.sub };
  });
  return createServer(koa.callback());
}

describe("jwtAuth() with resourceMetadata", () => {
  it("serves the RFC 9728 document without a token", async () => {
    const res = await request(app()).get("/.well-known/oauth-protected-resource").expect(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ["header"],
    });
    await request(app()).post("/.well-known/oauth-protected-resource").expect(405);
  });

  it("links it from every 401 challenge", async () => {
    const res = await request(app()).get("/me").expect(401);
    expect(res.headers["www-authenticate"]).toContain(`resource_metadata="${METADATA}"`);
  });

  it("sets a DPoP-bound request's identity", async () => {
    const client = await createDpopClient();
    const token = await issuer.sign({ sub: "holder", cnf: { jkt: client.jkt } });
    const proof = await client.proof("GET", `${RESOURCE}/me`, { accessToken: token });
    const res = await request(app())
      .get("/me")
      .set({ authorization: `DPoP ${token}`, dpop: proof })
      .expect(200);
    expect(res.body).toEqual({ sub: "holder" });
  });
});
