import { createVerifier, type SingleIssuerOptions, type Verifier } from "@meishi/core";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import type { Histogram } from "@opentelemetry/sdk-metrics";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { meishiTelemetry } from "../src/index.js";
import { createTestSdk, enableContext, type TestSdk, valueWhere } from "./sdk.js";

let issuer: TestIssuer;
let sdk: TestSdk;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(() => {
  sdk = createTestSdk();
  issuer.setFault(null);
});
afterEach(async () => {
  vi.useRealTimers();
  await sdk.shutdown();
});

function verifierWith(
  extra: Partial<SingleIssuerOptions> = {},
  traceVerifications = true,
): Verifier {
  const telemetry = meishiTelemetry({
    tracerProvider: sdk.tracerProvider,
    meterProvider: sdk.meterProvider,
    traceVerifications,
  });
  return createVerifier({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    logger: false,
    onEvent: telemetry.onEvent,
    ...extra,
  } as SingleIssuerOptions);
}

describe("verifications", () => {
  it("records a span and a count per verification, with the cache hit", async () => {
    const verifier = verifierWith();
    const token = await issuer.sign();
    await verifier.verify(token);
    await verifier.verify(token);
    const spans = sdk.spans("meishi.verify");
    expect(spans.map((span) => span.attributes)).toEqual([
      { "meishi.outcome": "verified", "meishi.cache.hit": false, "meishi.issuer": issuer.issuer },
      { "meishi.outcome": "verified", "meishi.cache.hit": true, "meishi.issuer": issuer.issuer },
    ]);
    expect(spans.every((span) => span.status.code === SpanStatusCode.UNSET)).toBe(true);
    const counts = await sdk.points("meishi.verifications");
    expect(valueWhere(counts, { "meishi.cache.hit": false })).toBe(1);
    expect(valueWhere(counts, { "meishi.cache.hit": true })).toBe(1);
    const durations = await sdk.points("meishi.verification.duration");
    expect((valueWhere(durations, { "meishi.cache.hit": false }) as Histogram).count).toBe(1);
  });

  it("records refusals by reason with error.type and the HTTP status, not as span errors", async () => {
    const verifier = verifierWith();
    await expect(verifier.verify(await issuer.sign({}, { expiresInSec: -60 }))).rejects.toThrow();
    await expect(verifier.verify(await issuer.sign({ aud: "someone-else" }))).rejects.toThrow();
    await expect(verifier.verify(await issuer.sign({ aud: "someone-else" }))).rejects.toThrow();
    const counts = await sdk.points("meishi.verifications");
    expect(
      valueWhere(counts, {
        "meishi.outcome": "rejected",
        "meishi.reason": "token_expired",
        "error.type": "token_expired",
        "http.response.status_code": 401,
      }),
    ).toBe(1);
    expect(valueWhere(counts, { "meishi.reason": "audience_mismatch" })).toBe(2);
    const spans = sdk.spans("meishi.verify");
    expect(spans).toHaveLength(3);
    expect(spans.every((span) => span.status.code === SpanStatusCode.UNSET)).toBe(true);
  });

  it("keeps metrics but no verification spans with traceVerifications: false", async () => {
    const verifier = verifierWith({}, false);
    await verifier.verify(await issuer.sign());
    expect(sdk.spans("meishi.verify")).toEqual([]);
    expect(
      valueWhere(await sdk.points("meishi.verifications"), { "meishi.outcome": "verified" }),
    ).toBe(1);
  });

  it("nests the verification span under the request's active span", async () => {
    enableContext();
    const verifier = verifierWith();
    const token = await issuer.sign();
    const tracer = sdk.tracerProvider.getTracer("app");
    await tracer.startActiveSpan("GET /orders", async (request) => {
      await verifier.verify(token);
      request.end();
    });
    const [verify] = sdk.spans("meishi.verify");
    const [request] = sdk.spans("GET /orders");
    expect(verify!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    expect(verify!.spanContext().traceId).toBe(request!.spanContext().traceId);
  });

  it("counts revoked tokens", async () => {
    const verifier = verifierWith({ isRevoked: () => true });
    await expect(verifier.verify(await issuer.sign())).rejects.toThrow();
    expect(valueWhere(await sdk.points("meishi.tokens.revoked"), {})).toBe(1);
    const counts = await sdk.points("meishi.verifications");
    expect(valueWhere(counts, { "meishi.reason": "token_revoked" })).toBe(1);
  });
});

describe("JWKS", () => {
  it("records each fetch's latency and a span with url.full", async () => {
    const verifier = verifierWith();
    await verifier.verify(await issuer.sign());
    const [fetchSpan] = sdk.spans("meishi.jwks.fetch");
    expect(fetchSpan!.attributes).toMatchObject({
      "url.full": issuer.jwksUri,
      "meishi.jwks.document": "jwks",
      "meishi.outcome": "success",
      "meishi.jwks.key_count": 1,
    });
    const durations = await sdk.points("meishi.jwks.fetch.duration");
    expect(durations).toHaveLength(1);
    expect(durations[0]!.attributes).toEqual({
      "url.full": issuer.jwksUri,
      "meishi.jwks.document": "jwks",
      "meishi.outcome": "success",
    });
    expect((durations[0]!.value as Histogram).count).toBe(1);
  });

  it("records a failed fetch as an error span and a failure count; a cold start answers 503", async () => {
    issuer.setFault({ kind: "status", status: 500 }, { endpoint: "jwks" });
    const verifier = verifierWith();
    await expect(verifier.verify(await issuer.sign())).rejects.toMatchObject({ status: 503 });
    const fetches = await sdk.points("meishi.jwks.fetches");
    expect(
      valueWhere(fetches, {
        "meishi.outcome": "failure",
        "error.type": "http_status",
        "meishi.jwks.serving_stale": false,
      }),
    ).toBe(1);
    const [fetchSpan] = sdk.spans("meishi.jwks.fetch");
    expect(fetchSpan!.status).toEqual({ code: SpanStatusCode.ERROR, message: "http_status" });
    const [verifySpan] = sdk.spans("meishi.verify");
    expect(verifySpan!.attributes).toMatchObject({
      "meishi.reason": "keys_unavailable",
      "http.response.status_code": 503,
    });
    expect(verifySpan!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("counts requests served with stale keys while the endpoint fails", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const verifier = verifierWith({ keySource: { maxAgeMs: 60_000 } });
    await verifier.verify(await issuer.sign({}, { expiresInSec: 3_600 }));
    issuer.setFault({ kind: "status", status: 503 }, { endpoint: "jwks" });
    vi.setSystemTime(Date.now() + 120_000);
    await verifier.verify(await issuer.sign({}, { expiresInSec: 3_600 }));
    expect(
      valueWhere(await sdk.points("meishi.jwks.stale_served"), { "url.full": issuer.jwksUri }),
    ).toBeGreaterThanOrEqual(1);
    const fetches = await sdk.points("meishi.jwks.fetches");
    expect(
      valueWhere(fetches, { "meishi.outcome": "failure", "meishi.jwks.serving_stale": true }),
    ).toBe(1);
  });

  it("counts unknown kids and key rotations", async () => {
    const verifier = verifierWith();
    await verifier.verify(await issuer.sign());
    await issuer.rotate();
    await verifier.verify(await issuer.sign());
    expect(
      valueWhere(await sdk.points("meishi.jwks.kid_misses"), { "meishi.jwks.refetched": true }),
    ).toBe(1);
    expect(valueWhere(await sdk.points("meishi.jwks.key_rotations"), {})).toBe(1);
  });
});

describe("providers", () => {
  it("falls back to the global providers of @opentelemetry/api", async () => {
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    try {
      const telemetry = meishiTelemetry({ meterProvider: sdk.meterProvider });
      const verifier = createVerifier({
        jwksUri: issuer.jwksUri,
        issuer: issuer.issuer,
        audience: issuer.audience,
        onEvent: telemetry.onEvent,
      });
      await verifier.verify(await issuer.sign());
      expect(sdk.spans("meishi.verify")).toHaveLength(1);
    } finally {
      trace.disable();
    }
  });
});
