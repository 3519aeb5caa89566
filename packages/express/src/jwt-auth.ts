import "./augment.js";
import {
  type AdapterOptions,
  type AuthRule,
  authorizeRequest,
  createRequestAuthenticator,
  type RequestAuthOptions,
} from "@meishi/core";
import type { Request, RequestHandler } from "express";

/** Options only the Express adapter has: `optional` and `getToken(req)`. */
export type ExpressAuthOptions = RequestAuthOptions<Request>;

/**
 * Options of {@link jwtAuth}: core's `VerifierOptions` plus `optional` and `getToken`, or a
 * prebuilt `verifier` to share one key cache between several middlewares.
 */
export type JwtAuthOptions = AdapterOptions<Request>;

/**
 * Express middleware that verifies the bearer token and sets `req.auth`. The verifier is built
 * once, here; a bad option throws a `ConfigurationError` at start-up. With `dpop` it checks
 * DPoP proofs too; with `resourceMetadata` it answers `GET /.well-known/oauth-protected-resource`
 * itself (mount it with `app.use()` so that path reaches it).
 *
 * The string form `jwtAuth(jwksUri)` checks signature, algorithm and expiry only (and warns
 * once); pass `{ jwksUri, issuer, audience }` to check the issuer and audience too.
 *
 * Failures go to `next(err)` as the core `AuthError`, which carries `status`, `expose` and the
 * `WWW-Authenticate` header: Express's default handler already answers 400/401/503 correctly,
 * and {@link authErrorHandler} adds the RFC 6750 JSON body.
 *
 * @throws {ConfigurationError} at start-up for a bad option.
 * @example
 * app.use(jwtAuth({ jwksUri, issuer: "https://auth.example.com", audience: "https://api.example.com" }));
 * app.get("/me", (req, res) => res.json({ sub: req.auth?.sub }));
 */
export function jwtAuth(options: string | URL | JwtAuthOptions): RequestHandler {
  const auth = createRequestAuthenticator<Request>(options, {
    caller: "jwtAuth() from @meishi/express",
  });
  return function meishiJwtAuth(req, res, next) {
    const metadata = auth.metadataFor(req.method, req.originalUrl);
    if (metadata !== undefined) {
      res.status(metadata.status).set(metadata.headers).send(metadata.body);
      return;
    }
    const result = auth.authenticate(
      req,
      {
        headers: req.headers,
        url: req.originalUrl,
        method: req.method,
        rawHeaders: req.rawHeaders,
      },
      undefined,
      undefined,
      (name, value) => res.setHeader(name, value),
    );
    // A verified-token cache hit comes back synchronously: no promise, no extra tick.
    if (!(result instanceof Promise)) {
      if (result !== undefined) req.auth = result;
      next();
      return;
    }
    // Express 4 ignores returned promises, so the rejection is passed to next() here, never left
    // unhandled.
    result.then((identity) => {
      if (identity !== undefined) req.auth = identity;
      next();
    }, next);
  };
}

/** Checks one rule against `req.auth`; a guard's only logic. */
export function guard(rule: AuthRule): RequestHandler {
  return function meishiGuard(req, _res, next) {
    try {
      authorizeRequest(req, req.auth, [rule]);
    } catch (error) {
      next(error);
      return;
    }
    next();
  };
}
