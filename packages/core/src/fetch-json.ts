/** Why fetching a remote document failed; carried in events and in the 503's `cause`. */
export type FetchFailureReason =
  | "timeout"
  | "network"
  | "http_status"
  | "too_large"
  | "invalid_json"
  | "invalid_document"
  | "redirect_refused"
  | "insecure_url";

/** A failed fetch of a JWKS or discovery document. */
export class FetchFailure extends Error {
  readonly reason: FetchFailureReason;
  readonly httpStatus: number | undefined;
  constructor(reason: FetchFailureReason, message: string, httpStatus?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "FetchFailure";
    this.reason = reason;
    this.httpStatus = httpStatus;
  }
}

export interface FetchJsonOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  allowInsecureHttp: boolean;
}

export interface FetchedJson {
  body: unknown;
  /** Seconds from `Cache-Control: max-age`, when the server sent one. */
  maxAgeSec: number | undefined;
}

const MAX_SAME_ORIGIN_REDIRECTS = 3;

/**
 * True for http URLs that can only reach this machine, where TLS adds nothing. `*.localhost`
 * names are not included: whether they resolve to loopback depends on the resolver, and a name
 * that reaches the network over plain http would hand an attacker the keys we trust.
 */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname;
  return host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Refuses anything but https, except loopback or when insecure http was allowed by name. */
export function checkFetchableUrl(url: URL, allowInsecureHttp: boolean): void {
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && (allowInsecureHttp || isLoopbackUrl(url))) return;
  throw new FetchFailure("insecure_url", `refusing to fetch ${url.origin}: https is required`);
}

function parseMaxAge(cacheControl: string | null): number | undefined {
  if (cacheControl === null) return undefined;
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/i.test(cacheControl)) return 0;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  return match ? Number(match[1]) : undefined;
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchFailure("too_large", `response declares ${declared} bytes, over the cap`);
  }
  if (response.body === null) return "";
  // Content-Length can lie or be absent (chunked), so the cap is enforced while reading.
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new FetchFailure("too_large", `response exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const whole = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(whole);
}

function classifyThrown(error: unknown, signal: AbortSignal): FetchFailure {
  if (error instanceof FetchFailure) return error;
  if (signal.aborted) return new FetchFailure("timeout", "fetch timed out", undefined, error);
  return new FetchFailure("network", "fetch failed", undefined, error);
}

async function fetchOnce(target: URL, signal: AbortSignal): Promise<Response> {
  const init: RequestInit = {
    redirect: "manual",
    signal,
    headers: { accept: "application/json, application/jwk-set+json" },
  };
  try {
    return await fetch(target, init);
  } catch (error) {
    // A pooled keep-alive connection the server has just closed fails before any response; one
    // immediate retry on a fresh connection (same deadline) tells that race from a real outage.
    if (signal.aborted) throw error;
    return fetch(target, init);
  }
}

/**
 * GETs a JSON document with a deadline on the whole exchange (headers and body), a byte cap,
 * and redirects followed only within the same origin: a JWKS that redirects elsewhere could
 * hand an attacker the keys we trust.
 */
export async function fetchJson(url: URL, options: FetchJsonOptions): Promise<FetchedJson> {
  checkFetchableUrl(url, options.allowInsecureHttp);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    let target = url;
    for (let hop = 0; ; hop++) {
      const response = await fetchOnce(target, controller.signal);
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get("location");
        const next = location === null ? undefined : new URL(location, target);
        if (next === undefined || next.origin !== url.origin || hop >= MAX_SAME_ORIGIN_REDIRECTS) {
          throw new FetchFailure("redirect_refused", "redirect to another origin refused");
        }
        target = next;
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new FetchFailure(
          "http_status",
          `unexpected HTTP ${response.status}`,
          response.status,
        );
      }
      const text = await readCapped(response, options.maxResponseBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new FetchFailure("invalid_json", "response is not JSON", response.status, error);
      }
      return { body, maxAgeSec: parseMaxAge(response.headers.get("cache-control")) };
    }
  } catch (error) {
    throw classifyThrown(error, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
