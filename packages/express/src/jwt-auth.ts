import "./augment.js";
import {
  type AuthRule,
  authorize,
  createVerifier,
  type Identity,
  type Verifier,
  type VerifierOptions,
} from "@meishi/core";
import type { Request, RequestHandler } from "express";

/** Options only the Express adapter has. */
export interface ExpressAuthOptions {
  /**
   * Let requests without a token through with no `req.auth`. A token that is sent but invalid
   * is still refused. Default `false`.
   */
  optional?: boolean;
  /**
   * Read the token yourself (return `undefined` for none). Default: the `Authorization`
   * header per RFC 6750 §2.1 (and the cookie or query string when core is told to).
   */
  getToken?: (req: Request) => string | undefined | Promise<string | undefined>;
}

/**
 * Options of {@link jwtAuth}: core's `VerifierOptions` plus the adapter's own, or a prebuilt
 * `verifier` to share one key cache between several middlewares.
 */
export type JwtAuthOptions =
  | (VerifierOptions & ExpressAuthOptions & { verifier?: undefined })
  | (ExpressAuthOptions & { verifier: Verifier });

// Guards find the verifier that authenticated a request here, so a 403 carries that verifier's
// realm and reaches its `onEvent` listener, without adding a property to the request.
const verifiers = new WeakMap<Request, Verifier>();

function toVerifier(options: string | URL | JwtAuthOptions): Verifier {
  if (typeof options === "string" || options instanceof URL) return createVerifier(options);
  if (options.verifier !== undefined) return options.verifier;
  const { optional: _optional, getToken: _getToken, verifier: _verifier, ...rest } = options;
  return createVerifier(rest as VerifierOptions);
}

/**
 * Express middleware that verifies the bearer token and sets `req.auth`. The verifier is built
 * once, here; a bad option throws a `ConfigurationError` at start-up.
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
  const verifier = toVerifier(options);
  const optional =
    typeof options === "object" && !(options instanceof URL) && options.optional === true;
  const getToken =
    typeof options === "object" && !(options instanceof URL) ? options.getToken : undefined;
  return function meishiJwtAuth(req, _res, next) {
    const authenticated: Promise<Identity | undefined> = verifier.authenticate(
      { headers: req.headers, url: req.originalUrl },
      getToken === undefined ? { optional } : { optional, getToken: () => getToken(req) },
    );
    // Express 4 ignores returned promises, so the rejection is passed to next() here, never left
    // unhandled.
    authenticated.then((identity) => {
      verifiers.set(req, verifier);
      if (identity !== undefined) req.auth = identity;
      next();
    }, next);
  };
}

/** Checks one rule against `req.auth`; a guard's only logic. */
export function guard(rule: AuthRule): RequestHandler {
  return function meishiGuard(req, _res, next) {
    try {
      const verifier = verifiers.get(req);
      if (verifier === undefined) authorize(req.auth, [rule]);
      else verifier.authorize(req.auth, [rule]);
    } catch (error) {
      next(error);
      return;
    }
    next();
  };
}
