// Cost of one token_verified event through meishiTelemetry() with the real SDK (no exporter),
// beside the SDK's own counter.add and histogram.record with the same attributes. Run after
// `pnpm build`, from packages/otel: `node scripts/event-cost.mjs`.

import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { meishiTelemetry } from "../dist/index.js";

const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });
const tracerProvider = new BasicTracerProvider({ spanProcessors: [] });
const event = {
  type: "token_verified",
  issuer: "https://id.example.com",
  cached: true,
  durationMs: 0.05,
};
const attributes = {
  "meishi.outcome": "verified",
  "meishi.cache.hit": true,
  "meishi.issuer": event.issuer,
};
const meter = meterProvider.getMeter("baseline");
const counter = meter.createCounter("baseline.counter");
const histogram = meter.createHistogram("baseline.histogram", { unit: "s" });
const metricsOnly = meishiTelemetry({ tracerProvider, meterProvider, traceVerifications: false });
const withSpans = meishiTelemetry({ tracerProvider, meterProvider });

function measure(label, run) {
  for (let i = 0; i < 200_000; i++) run();
  const rounds = 1_000_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) run();
  const ns = Number(process.hrtime.bigint() - start) / rounds;
  console.log(`${label}: ${ns.toFixed(0)} ns`);
}

measure("SDK counter.add", () => counter.add(1, attributes));
measure("SDK histogram.record", () => histogram.record(0.00005, attributes));
measure("meishiTelemetry, metrics only", () => metricsOnly.onEvent(event));
measure("meishiTelemetry, metrics and span", () => withSpans.onEvent(event));
await meterProvider.shutdown();
