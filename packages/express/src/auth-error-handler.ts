import { isAuthError } from "@meishi/core";
import type { ErrorRequestHandler } from "express";

/**
 * Express error middleware that answers meishi's errors with the RFC 6750 JSON body
 * (`{ error, error_description }`), their status and their `WWW-Authenticate` / `Retry-After`
 * headers. Any other error goes on to `next(err)` untouched. Install it after your routes.
 *
 * Optional: without it Express's default handler already sends the right status and headers,
 * with an HTML body.
 * @example
 * app.use(authErrorHandler());
 */
export function authErrorHandler(): ErrorRequestHandler {
  return function meishiAuthErrorHandler(error: unknown, _req, res, next) {
    if (!isAuthError(error) || res.headersSent) {
      next(error);
      return;
    }
    res.status(error.status).set(error.headers).json(error.toJSON());
  };
}
