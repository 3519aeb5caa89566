import type { Identity, VerifierOptions } from "@meishi/core";

/** What a harness hands back for one request. Header names are lower-case. */
export interface HarnessReply {
  status: number;
  headers: Readonly<Record<string, string | undefined>>;
  body: unknown;
}

/** An app a harness started, with the five conformance routes. */
export interface HarnessApp {
  request(path: string, headers?: Readonly<Record<string, string>>): Promise<HarnessReply>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Install the adapter's `authErrorHandler`. Default true. */
  errorHandler?: boolean;
}

/**
 * One adapter under test. `start` builds an app with these routes, all answering
 * `authBody(identity)`:
 * - `/me`: authentication required
 * - `/orders`: role "standard user"
 * - `/admin`: role "admin"
 * - `/scoped`: scope "orders:read"
 * - `/public`: optional authentication
 * - `/guarded`: role "admin" with no authentication before it (Express and Koa answer the guard's
 *   own 401; Fastify's guards authenticate first)
 * - `/public-admin`: optional authentication, then role "admin"
 * - `/area/admin`: role "admin" on a route mounted under the prefix `/area` the way the
 *   framework scopes routes (Express router, nested @koa/router, Fastify prefixed plugin)
 * - `/acr`: step-up, `requireAcr("phr")`
 * - `/recent`: step-up, `requireAuthTime({ maxAgeSec: 300 })`
 */
export interface Harness {
  name: string;
  start(options: VerifierOptions, startOptions?: StartOptions): Promise<HarnessApp>;
}

/** The success body every route sends. */
export function authBody(identity: Identity | null | undefined): { auth: unknown } {
  return {
    auth:
      identity === null || identity === undefined
        ? null
        : { sub: identity.sub, roles: [...identity.roles], scopes: [...identity.scopes] },
  };
}

export function pickHeaders(
  get: (name: string) => unknown,
): Readonly<Record<string, string | undefined>> {
  const headers: Record<string, string | undefined> = {};
  for (const name of ["www-authenticate", "retry-after", "content-type", "dpop-nonce"]) {
    const value = get(name);
    headers[name] = value === undefined || value === null ? undefined : String(value);
  }
  return headers;
}

export function parseBody(text: string, contentType: string | undefined): unknown {
  if (contentType?.includes("json") === true && text !== "") return JSON.parse(text);
  return text;
}
