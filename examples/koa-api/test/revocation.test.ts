import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import request from "supertest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../src/app.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

// What server.ts passes with REDIS_URL is a RevocationList; any store the verifier accepts will do.
const revokedSubjects = new Set(["mallory"]);
const config = () => ({
  jwksUri: issuer.jwksUri,
  issuer: issuer.issuer,
  audience: issuer.audience as string,
  publicUrl: "https://api.example.test",
  revocation: {
    isRevoked: (query: { sub: string | undefined }) => revokedSubjects.has(query.sub ?? ""),
  },
});

async function me(sub: string) {
  const token = await issuer.sign({ sub, role: "standard user" });
  const res = await request(createApp(config()).callback())
    .get("/me")
    .set("Authorization", `Bearer ${token}`);
  return { status: res.status, challenge: res.headers["www-authenticate"] };
}

it("refuses a revoked token with 401 invalid_token when given a revocation list", async () => {
  const reply = await me("mallory");
  expect(reply.status).toBe(401);
  expect(reply.challenge).toContain('error="invalid_token"');
});

it("still serves a token the list does not revoke", async () => {
  expect((await me("alice")).status).toBe(200);
});
