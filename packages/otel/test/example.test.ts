// The README's example, run: an Express API whose token checks show up as spans and metrics.
import { jwtAuth, requireScope } from "@meishi/express";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import express from "express";
import request from "supertest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { meishiTelemetry } from "../src/index.js";
import { createTestSdk, type TestSdk, valueWhere } from "./sdk.js";

let issuer: TestIssuer;
let sdk: TestSdk;

beforeAll(async () => {
  issuer = await createTestIssuer();
  sdk = createTestSdk();
});
afterAll(async () => {
  await sdk.shutdown();
  await issuer.close();
});

function createApp(telemetry: ReturnType<typeof meishiTelemetry>) {
  const app = express();
  app.use(
    jwtAuth({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      onEvent: telemetry.onEvent,
      logger: false,
    }),
  );
  app.get("/orders", requireScope("orders:read"), (req, res) => {
    res.json({ for: req.auth?.sub });
  });
  return app;
}

it("reports accepted and refused requests of an Express API", async () => {
  const telemetry = meishiTelemetry({
    tracerProvider: sdk.tracerProvider,
    meterProvider: sdk.meterProvider,
  });
  const app = createApp(telemetry);
  const good = await issuer.sign({ scope: "orders:read" });
  await request(app).get("/orders").set("authorization", `Bearer ${good}`).expect(200);
  await request(app).get("/orders").set("authorization", `Bearer ${good}`).expect(200);
  await request(app).get("/orders").expect(401);
  const expired = await issuer.sign({ scope: "orders:read" }, { expiresInSec: -60 });
  await request(app).get("/orders").set("authorization", `Bearer ${expired}`).expect(401);

  const verifications = await sdk.points("meishi.verifications");
  expect(
    valueWhere(verifications, { "meishi.outcome": "verified", "meishi.cache.hit": false }),
  ).toBe(1);
  expect(
    valueWhere(verifications, { "meishi.outcome": "verified", "meishi.cache.hit": true }),
  ).toBe(1);
  expect(valueWhere(verifications, { "meishi.reason": "missing_token" })).toBe(1);
  expect(valueWhere(verifications, { "meishi.reason": "token_expired" })).toBe(1);
  expect(sdk.spans("meishi.verify")).toHaveLength(4);
  expect(sdk.spans("meishi.jwks.fetch")).toHaveLength(1);
});
