import { isAuthError } from "@meishi/core";
import type { Middleware } from "koa";

/**
 * Koa middleware that answers meishi's errors with the RFC 6750 JSON body
 * (`{ error, error_description }`), their status and their `WWW-Authenticate` / `Retry-After`
 * headers. Any other error is rethrown untouched. Install it first, before `jwtAuth()`.
 *
 * Optional: without it Koa's `ctx.onerror` already sends the right status and headers, with a
 * text body.
 * @example
 * app.use(authErrorHandler());
 */
export function authErrorHandler(): Middleware {
  return async function meishiAuthErrorHandler(ctx, next) {
    try {
      await next();
    } catch (error) {
      if (!isAuthError(error)) throw error;
      ctx.status = error.status;
      ctx.set(error.headers);
      ctx.body = error.toJSON();
    }
  };
}
