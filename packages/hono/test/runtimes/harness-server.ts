import type { VerifierOptions } from "@meishi/core";
import type { Hono } from "hono";
import { buildHonoApp } from "../../../../test/conformance/hono-app.js";

/** The header naming which started app a request is for. */
export const APP_HEADER = "x-meishi-harness-app";

interface StartBody {
  options: VerifierOptions;
  errorHandler?: boolean;
}

// One runtime process serves many apps, so a case starts an app in milliseconds instead of
// booting a runtime. Everything here is plain Fetch API: the same file runs in workerd, Bun and
// Deno.
const apps = new Map<string, Hono<never>>();
let nextId = 0;

/**
 * The runtime's whole server: `POST /__harness/start` builds the conformance app from JSON
 * options and answers its id; `POST /__harness/close/<id>` drops it; any other request goes to
 * the app its `x-meishi-harness-app` header names, without that header.
 */
export async function handleHarnessRequest(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (request.method === "POST" && url.pathname === "/__harness/start") {
    const body = (await request.json()) as StartBody;
    const id = String(++nextId);
    const app = buildHonoApp(
      body.options,
      body.errorHandler === undefined ? {} : { errorHandler: body.errorHandler },
    );
    apps.set(id, app as unknown as Hono<never>);
    return Response.json({ id });
  }
  if (request.method === "POST" && url.pathname.startsWith("/__harness/close/")) {
    apps.delete(url.pathname.slice("/__harness/close/".length));
    return new Response(null, { status: 204 });
  }
  const app = apps.get(request.headers.get(APP_HEADER) ?? "");
  if (app === undefined) return new Response("no such harness app", { status: 421 });
  const headers = new Headers(request.headers);
  headers.delete(APP_HEADER);
  return app.fetch(new Request(request.url, { method: request.method, headers }));
}
