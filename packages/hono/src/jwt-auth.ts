import {
  type AdapterOptions,
  type AuthRule,
  authorizeRequest,
  createRequestAuthenticator,
  type Identity,
  isAuthError,
  type RequestAuthenticator,
  type RequestAuthOptions,
} from "@meishi/core";
import type { Context, MiddlewareHandler } from "hono";
import { authErrorException } from "./auth-error-response.js";

/** What `jwtAuth()` adds to Hono's context: `c.get("auth")`. */
export interface MeishiVariables {
  /**
   * The verified token. `undefined` when the route's auth is optional and no token was sent.
   * Its claims are typed by `Register` in `@meishi/core`.
   */
  auth: Identity | undefined;
}

/**
 * The Hono `Env` of a meishi-protected app: `new Hono<AuthEnv>()`, or intersect it with your
 * own bindings (`{ Bindings: MyBindings } & AuthEnv`).
 */
export interface AuthEnv {
  Variables: MeishiVariables;
}

/** Options only the Hono adapter has: `optional` and `getToken(c)`. */
export type HonoAuthOptions = RequestAuthOptions<Context>;

/**
 * Options of {@link jwtAuth}: core's `VerifierOptions` plus `optional` and `getToken`, or a
 * prebuilt `verifier` to share one key cache between several middlewares.
 */
export type JwtAuthOptions = AdapterOptions<Context>;

/** What {@link jwtAuth} accepts: a JWKS URL or options. */
export type JwtAuthConfig = string | URL | JwtAuthOptions;

const CALLER = "jwtAuth() from @meishi/hono";

/**
 * Hono middleware that verifies the bearer token and sets `c.get("auth")`. It runs on every
 * runtime Hono runs on (Cloudflare Workers, Deno, Bun, Node): core needs only WebCrypto and
 * `fetch`.
 *
 * The verifier, and with it the JWKS cache, is built once: at the call, or, when `options` is a
 * function of the bindings (`c.env`, which Workers only hand to requests), on the first request
 * and then kept for the isolate's life. A bad option throws a `ConfigurationError` at start-up
 * (or answers that first request with Hono's 500).
 *
 * The string form `jwtAuth(jwksUri)` checks signature, algorithm and expiry only (and warns
 * once); pass `{ jwksUri, issuer, audience }` to check the issuer and audience too.
 *
 * A refusal is thrown as Hono's `HTTPException` whose response is already the RFC 6750 one
 * (status, `WWW-Authenticate`, `Retry-After`, JSON body `{ error, error_description }`) and
 * whose `cause` is the core `AuthError`: Hono's default handler sends it as it is, and
 * {@link authErrorHandler} keeps it right in `app.onError`.
 *
 * @throws {ConfigurationError} at start-up for a bad option.
 * @example
 * const app = new Hono<AuthEnv>();
 * app.use("/api/*", jwtAuth({ jwksUri, issuer: "https://auth.example.com", audience: "https://api.example.com" }));
 * app.get("/api/me", (c) => c.json({ sub: c.get("auth")?.sub }));
 */
export function jwtAuth<Bindings extends object = object>(
  options: JwtAuthConfig | ((bindings: Bindings) => JwtAuthConfig),
): MiddlewareHandler<{ Bindings: Bindings; Variables: MeishiVariables }> {
  let auth: RequestAuthenticator<Context> | undefined =
    typeof options === "function" ? undefined : createAuthenticator(options);
  return async function meishiJwtAuth(c, next) {
    if (auth === undefined) {
      auth = createAuthenticator((options as (bindings: Bindings) => JwtAuthConfig)(c.env));
    }
    // The request target as received (path and query): what a DPoP proof's htu names, with
    // the origin from configuration, never from the request.
    const target = requestTarget(c.req.url);
    const metadata = auth.metadataFor(c.req.method, target);
    if (metadata !== undefined) {
      return c.body(metadata.body, metadata.status as 200, metadata.headers);
    }
    let identity: Identity | undefined;
    try {
      // A Fetch `Headers` folds two Authorization headers into "Bearer a, Bearer b", which core
      // refuses as two credentials: no runtime-specific raw header list is needed.
      identity = await auth.authenticate(
        c,
        { headers: c.req.raw.headers, url: target, method: c.req.method },
        undefined,
        undefined,
        // DPoP-Nonce, when DPoP nonces are on.
        (name, value) => c.header(name, value),
      );
    } catch (error) {
      throw isAuthError(error) ? authErrorException(error) : error;
    }
    if (identity !== undefined) c.set("auth", identity);
    await next();
  };
}

/** `https://host/path?query` → `/path?query`: the Fetch API gives Hono an absolute URL. */
function requestTarget(url: string): string {
  const authority = url.indexOf("//");
  const path = authority === -1 ? -1 : url.indexOf("/", authority + 2);
  return path === -1 ? "/" : url.slice(path);
}

function createAuthenticator(options: JwtAuthConfig): RequestAuthenticator<Context> {
  return createRequestAuthenticator<Context>(options, { caller: CALLER });
}

/** Checks one rule against `c.get("auth")`; a guard's only logic. */
export function guard(rule: AuthRule): MiddlewareHandler<AuthEnv> {
  return async function meishiGuard(c, next) {
    try {
      authorizeRequest(c, c.get("auth"), [rule]);
    } catch (error) {
      throw isAuthError(error) ? authErrorException(error) : error;
    }
    await next();
  };
}
