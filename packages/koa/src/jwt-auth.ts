import {
  type AdapterOptions,
  type AuthRule,
  authorizeRequest,
  createRequestAuthenticator,
  type RequestAuthOptions,
} from "@meishi/core";
import type { Context, Middleware, ParameterizedContext } from "koa";
import type { AuthState } from "./augment.js";
import { refuseCaseBlindUseLayer, registerMiddleware } from "./router-check.js";

/** Options only the Koa adapter has: `optional` and `getToken(ctx)`. */
export type KoaAuthOptions = RequestAuthOptions<Context>;

/**
 * Options of {@link jwtAuth}: core's `VerifierOptions` plus the adapter's own, or a prebuilt
 * `verifier` to share one key cache between several middlewares.
 */
export type JwtAuthOptions = AdapterOptions<Context>;

/**
 * Koa middleware that verifies the bearer token and sets `ctx.state.auth`. The verifier is
 * built once, here; a bad option throws a `ConfigurationError` at start-up.
 *
 * The string form `jwtAuth(jwksUri)` checks signature, algorithm and expiry only (and warns
 * once); pass `{ jwksUri, issuer, audience }` to check the issuer and audience too.
 *
 * Failures are thrown as the core `AuthError`, which carries `status`, `expose` and the
 * `WWW-Authenticate` header: Koa's `ctx.onerror` already answers 400/401/503 correctly, and
 * {@link authErrorHandler} adds the RFC 6750 JSON body.
 *
 * @throws {ConfigurationError} at start-up for a bad option.
 * @example
 * app.use(jwtAuth({ jwksUri, issuer: "https://auth.example.com", audience: "https://api.example.com" }));
 */
export function jwtAuth(options: string | URL | JwtAuthOptions): Middleware<AuthState> {
  const auth = createRequestAuthenticator<Context>(options, {
    caller: "jwtAuth() from @meishi/koa",
  });
  const middleware: Middleware<AuthState> = function meishiJwtAuth(ctx, next) {
    try {
      refuseCaseBlindUseLayer(ctx);
    } catch (error) {
      return Promise.reject(error);
    }
    // Node's request directly: Koa's ctx.headers and ctx.method are the same values through
    // two getters each (delegates), a measurable share of a cache hit's cost.
    const req = ctx.req;
    // Typed optional for client requests; a server's request always has it.
    const method = req.method as string;
    const metadata = auth.metadataFor(method, ctx.originalUrl);
    if (metadata !== undefined) {
      ctx.status = metadata.status;
      ctx.set(metadata.headers);
      ctx.body = metadata.body;
      return Promise.resolve();
    }
    const result = auth.authenticate(
      ctx,
      {
        headers: req.headers,
        // The URL as received: a mount (koa-mount, a prefixed router) has not shortened it, so it
        // is the path a DPoP proof's htu names.
        url: ctx.originalUrl,
        method,
        rawHeaders: req.rawHeaders,
      },
      undefined,
      undefined,
      // DPoP-Nonce, when DPoP nonces are on.
      (name, value) => ctx.set(name, value),
    );
    // A verified-token cache hit comes back synchronously: no extra promise or tick.
    if (!(result instanceof Promise)) {
      if (result !== undefined) ctx.state.auth = result;
      return next();
    }
    return result.then((identity) => {
      if (identity !== undefined) ctx.state.auth = identity;
      return next();
    });
  };
  registerMiddleware(middleware, "jwtAuth() from @meishi/koa");
  return middleware;
}

/** Checks one rule against `ctx.state.auth`; a guard's only logic. */
export function guard(rule: AuthRule): Middleware<AuthState> {
  const middleware: Middleware<AuthState> = function meishiGuard(
    ctx: ParameterizedContext<AuthState>,
    next,
  ) {
    // A guard skipped by case is as bad as authentication skipped: any user passes.
    refuseCaseBlindUseLayer(ctx);
    authorizeRequest(ctx, ctx.state.auth, [rule]);
    return next();
  };
  registerMiddleware(middleware, "a guard (requireRole, …) from @meishi/koa");
  return middleware;
}
