import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultSpec } from "../faults.js";

/** A complete HTTP answer, computed when the response is about to be written. */
export interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/** What a fault needs from the issuer to misbehave. */
export interface FaultContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The answer the endpoint would give without a fault, computed at call time. */
  normal: () => Reply;
  /** The JWKs currently published, for `bad-keys`. */
  publishedJwks: () => readonly Record<string, unknown>[];
  /** Run `fn` after `ms`, unless the issuer closes first. */
  schedule: (fn: () => void, ms: number) => void;
}

const JSON_TYPE = "application/json";
const HUGE_PREFIX = '{"keys":[';
const HUGE_SUFFIX = "]}";
const HUGE_CHUNK_BYTES = 64 * 1024;
let hugeChunk: Buffer | undefined;

/** Write `reply` and end the response, unless the client has already gone. */
export function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const body = Buffer.from(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    "content-type": reply.contentType,
    "content-length": body.length,
  });
  res.end(body);
}

/** Answer (or refuse to answer) according to `fault`. */
export function serveFault(fault: FaultSpec, ctx: FaultContext): void {
  const { res } = ctx;
  switch (fault.kind) {
    case "slow":
      ctx.schedule(() => send(res, ctx.normal()), fault.delayMs);
      return;
    case "status":
      send(res, {
        status: fault.status,
        contentType: "text/plain",
        body: `fault: status ${fault.status}`,
      });
      return;
    case "html":
      send(res, {
        status: 200,
        contentType: "text/html; charset=utf-8",
        body: "<html><head><title>Sign in</title></head><body><h1>Sign in</h1></body></html>",
      });
      return;
    case "invalid-json":
      send(res, { status: 200, contentType: JSON_TYPE, body: "{not json" });
      return;
    case "not-jwks":
      send(res, { status: 200, contentType: JSON_TYPE, body: '{"hello":"world"}' });
      return;
    case "bad-keys":
      send(res, {
        status: 200,
        contentType: JSON_TYPE,
        body: JSON.stringify({ keys: brokenKeys(ctx.publishedJwks()) }),
      });
      return;
    case "huge":
      void streamHuge(res, fault.bytes);
      return;
    case "redirect":
      send(res, {
        status: fault.status ?? 302,
        contentType: "text/plain",
        body: "",
        headers: { location: fault.location },
      });
      return;
    case "close":
      ctx.req.socket.destroy();
      return;
    case "reset-mid-body":
      resetMidBody(res, ctx.normal());
      return;
    case "hang":
      // Left unanswered on purpose; issuer.close() destroys the socket.
      return;
    case "body":
      send(res, {
        status: fault.status ?? 200,
        contentType: fault.contentType ?? JSON_TYPE,
        body: fault.body,
      });
      return;
  }
}

/** Each published key broken under its own kid, plus a key type nobody knows. */
function brokenKeys(jwks: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const broken = jwks.map((jwk) => {
    switch (jwk.kty) {
      case "RSA":
        return { ...jwk, n: "!!not*base64url!!" };
      case "EC":
        return { ...jwk, crv: "P-999" };
      case "OKP":
        return { ...jwk, crv: "Ed999" };
      default:
        return { ...jwk, kty: "???" };
    }
  });
  return [...broken, { kty: "XYZ", kid: "unknown-kty", use: "sig", alg: "RS256", n: "AQAB" }];
}

function resetMidBody(res: ServerResponse, reply: Reply): void {
  const body = Buffer.from(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    "content-type": reply.contentType,
    "content-length": body.length,
  });
  // The write callback runs once headers and the first half are handed to the socket, so the
  // client sees a started response that then breaks.
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
}

async function streamHuge(res: ServerResponse, bytes: number): Promise<void> {
  const total = Math.max(Math.floor(bytes), HUGE_PREFIX.length + HUGE_SUFFIX.length);
  hugeChunk ??= Buffer.alloc(HUGE_CHUNK_BYTES, 0x20);
  res.writeHead(200, { "content-type": JSON_TYPE, "content-length": total });
  res.write(HUGE_PREFIX);
  let remaining = total - HUGE_PREFIX.length - HUGE_SUFFIX.length;
  while (remaining > 0) {
    if (res.destroyed) return;
    const size = Math.min(remaining, HUGE_CHUNK_BYTES);
    remaining -= size;
    const flushed = res.write(size === HUGE_CHUNK_BYTES ? hugeChunk : hugeChunk.subarray(0, size));
    if (!flushed) await drainOrClose(res);
  }
  if (!res.destroyed) res.end(HUGE_SUFFIX);
}

// A client that stops reading (size limit hit) closes the socket; 'drain' then never fires,
// so wait for either.
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
