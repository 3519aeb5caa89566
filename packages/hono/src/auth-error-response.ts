import { type AnyAuthError, isAuthError } from "@meishi/core";
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The RFC 6750 response for a meishi error: its status, `WWW-Authenticate` and `Retry-After`
 * headers and the JSON body `{ error, error_description }`. For handlers that catch an
 * `AuthError` themselves (e.g. from `verifier.verify()`).
 * @example
 * try { await verifier.verify(token); } catch (error) { if (isAuthError(error)) return authErrorResponse(error); throw error; }
 */
export function authErrorResponse(error: AnyAuthError): Response {
  return new Response(JSON.stringify(error.toJSON()), {
    status: error.status,
    headers: { ...error.headers, "content-type": "application/json" },
  });
}

// Hono's own auth middleware (hono/jwt, hono/bearer-auth) throws HTTPException with the
// finished response: the default handler sends it, and `app.onError` still sees the failure
// (for logging or restyling) instead of it being answered out of sight.
export function authErrorException(error: AnyAuthError): HTTPException {
  return new HTTPException(error.status as ContentfulStatusCode, {
    res: authErrorResponse(error),
    message: error.message,
    cause: error,
  });
}

/**
 * An `app.onError` handler that answers meishi's errors (thrown by `jwtAuth()`, the guards, or
 * your own code) with their RFC 6750 response, and every other error with `fallback` (default:
 * what Hono's own handler does: an `HTTPException`'s response, else a bare 500 that leaks
 * nothing).
 *
 * Optional: without it Hono's default handler already sends meishi's responses. Use it when you
 * install your own `onError`, so auth failures keep their 401/403/503.
 * @example
 * app.onError(authErrorHandler((error, c) => c.json({ error: "internal" }, 500)));
 */
export function authErrorHandler(fallback?: ErrorHandler): ErrorHandler {
  return function meishiAuthErrorHandler(error, c) {
    const authError = isAuthError(error) ? error : isAuthError(error.cause) ? error.cause : null;
    if (authError !== null) return authErrorResponse(authError);
    if (fallback !== undefined) return fallback(error, c);
    if (error instanceof HTTPException) return error.getResponse();
    console.error(error);
    return c.text("Internal Server Error", 500);
  };
}
