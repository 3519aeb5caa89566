import type { EventListener, MeishiEvent } from "@meishi/core";
import type {
  Attributes,
  Counter,
  Histogram,
  MeterProvider,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import { ATTR, METRIC, SPAN } from "./attributes.js";

/** Options of {@link meishiTelemetry}. */
export interface TelemetryOptions {
  /** Where spans go. Default: the global tracer provider of `@opentelemetry/api`. */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global meter provider of `@opentelemetry/api`. */
  meterProvider?: MeterProvider;
  /**
   * Record a span per verification (nested under the active request span). Default `true`;
   * `false` keeps metrics and JWKS spans only, for services where a span per request costs
   * too much.
   */
  traceVerifications?: boolean;
}

/** What {@link meishiTelemetry} returns: the listener to give the verifier. */
export interface MeishiTelemetry {
  /** Pass as `onEvent` to `createVerifier`, `jwtAuth` or the Fastify plugin. */
  readonly onEvent: EventListener;
}

/** The instrumentation scope's name and version, as recorded on every span and metric. */
export const INSTRUMENTATION_NAME = "@meishi/otel";
export const INSTRUMENTATION_VERSION = "0.1.0";

// `SpanStatusCode.ERROR` of @opentelemetry/api, kept as a number so nothing of the API is
// loaded when providers are passed in.
const SPAN_STATUS_ERROR = 2;
// Verified-token attribute sets are cached per issuer; past this many issuers (only possible
// with `issuer: null`), they are built per event instead of growing without bound.
const MAX_CACHED_ISSUERS = 100;

const NO_ISSUER = Symbol("no issuer");

interface OtelApi {
  trace: { getTracerProvider(): TracerProvider };
  metrics: { getMeterProvider(): MeterProvider };
}

type NodeModule = typeof import("node:module");

// Loaded through process.getBuiltinModule, not a static import, so the package also loads on
// runtimes without node:module when both providers are passed in.
function globalApi(): OtelApi {
  const runtime = globalThis as { process?: { getBuiltinModule?(id: string): unknown } };
  const nodeModule = runtime.process?.getBuiltinModule?.("node:module") as NodeModule | undefined;
  try {
    if (nodeModule === undefined) throw new Error("no node:module");
    return nodeModule.createRequire(import.meta.url)("@opentelemetry/api") as OtelApi;
  } catch {
    throw new TypeError(
      "meishiTelemetry(): install @opentelemetry/api, or pass tracerProvider and meterProvider",
    );
  }
}

/** Every instrument: histograms measure durations in seconds, the rest count. */
const INSTRUMENTS = {
  verifications: ["Token verifications, by outcome and refusal reason", "{verification}"],
  verificationDuration: ["Time to verify an accepted token, revocation check included", "s"],
  jwksFetches: ["JWKS and discovery fetches, by outcome and failure reason", "{fetch}"],
  jwksFetchDuration: ["Time to fetch a JWKS or discovery document", "s"],
  jwksStaleServed: ["Requests answered with expired keys because the endpoint failed", "{request}"],
  kidMisses: ["Tokens naming a kid the key set does not have", "{token}"],
  keyRotations: ["Key sets fetched with keys added or removed", "{rotation}"],
  keysIgnored: [
    "Published keys meishi will not verify with (enc, too short, wrong alg, …)",
    "{key}",
  ],
  revokedTokens: ["Tokens refused because they were revoked", "{token}"],
} as const satisfies Record<keyof typeof METRIC, readonly [description: string, unit: string]>;

type InstrumentName = keyof typeof INSTRUMENTS;
type Instruments = {
  [Name in InstrumentName]: (typeof INSTRUMENTS)[Name][1] extends "s" ? Histogram : Counter;
};

function createInstruments(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const instruments: Record<string, Counter | Histogram> = {};
  for (const [name, [description, unit]] of Object.entries(INSTRUMENTS)) {
    const metric = METRIC[name as InstrumentName];
    instruments[name] =
      unit === "s"
        ? meter.createHistogram(metric, { description, unit })
        : meter.createCounter(metric, { description, unit });
  }
  return instruments as Instruments;
}

/**
 * OpenTelemetry for a meishi verifier: a span per verification (outcome, reason, cache hit),
 * a span per JWKS fetch, and metrics for verifications by outcome and reason, JWKS fetch
 * latency and failures, stale serving, unknown `kid`s, rotations and revocations. Spans are
 * recorded from events with their real start time, under the request's active span.
 *
 * Build it once and pass `onEvent` to the verifier; give each verifier the same instance.
 *
 * @throws {TypeError} when no provider is given and `@opentelemetry/api` is not installed.
 * @example
 * const telemetry = meishiTelemetry({ tracerProvider, meterProvider });
 * app.use(jwtAuth({ jwksUri, issuer, audience, onEvent: telemetry.onEvent }));
 */
export function meishiTelemetry(options: TelemetryOptions = {}): MeishiTelemetry {
  const { traceVerifications = true } = options;
  const needsGlobal = options.tracerProvider === undefined || options.meterProvider === undefined;
  const api = needsGlobal ? globalApi() : undefined;
  const tracer = (options.tracerProvider ?? api!.trace.getTracerProvider()).getTracer(
    INSTRUMENTATION_NAME,
    INSTRUMENTATION_VERSION,
  );
  const instruments = createInstruments(options.meterProvider ?? api!.metrics.getMeterProvider());
  const recorder = new EventRecorder(tracer, instruments, traceVerifications);
  return Object.freeze({ onEvent: (event: MeishiEvent) => recorder.record(event) });
}

/** Turns events into spans and metrics, reusing attribute sets on the per-request paths. */
class EventRecorder {
  readonly #cachedAttributes = new Map<string | symbol, Attributes>();
  readonly #checkedAttributes = new Map<string | symbol, Attributes>();
  readonly #rejectedAttributes = new Map<string, Attributes>();

  constructor(
    private readonly tracer: Tracer,
    private readonly instruments: Instruments,
    private readonly traceVerifications: boolean,
  ) {}

  record(event: MeishiEvent): void {
    switch (event.type) {
      case "token_verified":
        this.#verified(event.issuer, event.cached, event.durationMs);
        return;
      case "token_rejected":
        this.#rejected(event.reason, event.status);
        return;
      case "token_revoked":
        this.instruments.revokedTokens.add(1);
        return;
      case "jwks_fetched":
        this.#fetched(
          event.durationMs,
          { [ATTR.urlFull]: event.uri, [ATTR.document]: event.document, [ATTR.outcome]: "success" },
          // On the span only: a key count on the metric would add a series per count.
          { [ATTR.keyCount]: event.keyCount },
        );
        return;
      case "jwks_fetch_failed":
        this.#fetched(
          event.durationMs,
          {
            [ATTR.urlFull]: event.uri,
            [ATTR.document]: event.document,
            [ATTR.outcome]: "failure",
            [ATTR.errorType]: event.reason,
            [ATTR.servingStale]: event.servingStale,
          },
          {},
        );
        return;
      case "jwks_stale_served":
        this.instruments.jwksStaleServed.add(1, {
          [ATTR.urlFull]: event.uri,
          [ATTR.document]: event.document,
        });
        return;
      case "kid_miss":
        this.instruments.kidMisses.add(1, {
          [ATTR.urlFull]: event.uri,
          [ATTR.refetched]: event.refetched,
        });
        return;
      case "key_rotation_seen":
        this.instruments.keyRotations.add(1, { [ATTR.urlFull]: event.uri });
        return;
      case "key_ignored":
        this.instruments.keysIgnored.add(1, { [ATTR.urlFull]: event.uri });
        return;
    }
  }

  #verified(issuer: string | undefined, cached: boolean, durationMs: number): void {
    const attributes = this.#verifiedAttributesFor(issuer, cached);
    this.instruments.verifications.add(1, attributes);
    this.instruments.verificationDuration.record(durationMs / 1000, attributes);
    if (this.traceVerifications) {
      const end = Date.now();
      this.tracer.startSpan(SPAN.verify, { attributes, startTime: end - durationMs }).end(end);
    }
  }

  #rejected(reason: string, status: number): void {
    const attributes = this.#rejectedAttributesFor(reason, status);
    this.instruments.verifications.add(1, attributes);
    if (this.traceVerifications) {
      // Refusals carry no duration yet: the span marks the moment of the refusal.
      const span = this.tracer.startSpan(SPAN.verify, { attributes });
      // A 401 or 403 is the verifier doing its job; only a dependency failure (503) is an error.
      if (status >= 500) span.setStatus({ code: SPAN_STATUS_ERROR, message: reason });
      span.end();
    }
  }

  // Fetches are rare (once per key set age or unknown kid), so their attributes are built per event.
  #fetched(durationMs: number, attributes: Attributes, spanOnly: Attributes): void {
    const failed = attributes[ATTR.outcome] === "failure";
    this.instruments.jwksFetches.add(1, attributes);
    this.instruments.jwksFetchDuration.record(durationMs / 1000, attributes);
    const end = Date.now();
    const span = this.tracer.startSpan(SPAN.jwksFetch, {
      attributes: { ...attributes, ...spanOnly },
      startTime: end - durationMs,
    });
    if (failed)
      span.setStatus({ code: SPAN_STATUS_ERROR, message: String(attributes[ATTR.errorType]) });
    span.end(end);
  }

  #verifiedAttributesFor(issuer: string | undefined, cached: boolean): Attributes {
    // Keyed by the issuer string itself: no key is built per event.
    const byIssuer = cached ? this.#cachedAttributes : this.#checkedAttributes;
    const key = issuer ?? NO_ISSUER;
    const known = byIssuer.get(key);
    if (known !== undefined) return known;
    const attributes: Attributes = Object.freeze({
      [ATTR.outcome]: "verified",
      [ATTR.cacheHit]: cached,
      ...(issuer === undefined ? {} : { [ATTR.issuer]: issuer }),
    });
    if (byIssuer.size < MAX_CACHED_ISSUERS) byIssuer.set(key, attributes);
    return attributes;
  }

  #rejectedAttributesFor(reason: string, status: number): Attributes {
    // Reasons and statuses are closed sets from core, so this map stays small.
    const key = `${status}${reason}`;
    const known = this.#rejectedAttributes.get(key);
    if (known !== undefined) return known;
    const attributes: Attributes = Object.freeze({
      [ATTR.outcome]: "rejected",
      [ATTR.reason]: reason,
      [ATTR.errorType]: reason,
      [ATTR.httpStatus]: status,
    });
    this.#rejectedAttributes.set(key, attributes);
    return attributes;
  }
}
