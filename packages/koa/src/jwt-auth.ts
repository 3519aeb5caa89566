import {
  type AuthRule,
  authorize,
  createVerifier,
  type Identity,
  type Verifier,
  type VerifierOptions,
} from "@meishi/core";
import type { Context, Middleware, ParameterizedContext } from "koa";
import type { AuthState } from "./augment.js";

/** Options only the Koa adapter has. */
export interface KoaAuthOptions {
  /**
   * Let requests without a token through with no `ctx.state.auth`. A token that is sent but
   * invalid is still refused. Default `false`.
   */
  optional?: boolean;
  /**
   * Read the token yourself (return `undefined` for none). Default: the `Authorization`
   * header per RFC 6750 §2.1 (and the cookie or query string when core is told to).
   */
  getToken?: (ctx: Context) => string | undefined | Promise<string | undefined>;
}

/**
 * Options of {@link jwtAuth}: core's `VerifierOptions` plus the adapter's own, or a prebuilt
 * `verifier` to share one key cache between several middlewares.
 */
export type JwtAuthOptions =
  | (VerifierOptions & KoaAuthOptions & { verifier?: undefined })
  | (KoaAuthOptions & { verifier: Verifier });

// Guards find the verifier that authenticated a request here, so a 403 carries that verifier's
// realm and reaches its `onEvent` listener, without adding a property to the context.
const verifiers = new WeakMap<object, Verifier>();

function toVerifier(options: string | URL | JwtAuthOptions): Verifier {
  if (typeof options === "string" || options instanceof URL) return createVerifier(options);
  if (options.verifier !== undefined) return options.verifier;
  const { optional: _optional, getToken: _getToken, verifier: _verifier, ...rest } = options;
  return createVerifier(rest as VerifierOptions);
}

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
  const verifier = toVerifier(options);
  const optional =
    typeof options === "object" && !(options instanceof URL) && options.optional === true;
  const getToken =
    typeof options === "object" && !(options instanceof URL) ? options.getToken : undefined;
  return async function meishiJwtAuth(ctx, next) {
    const identity: Identity | undefined = await verifier.authenticate(
      { headers: ctx.headers, url: ctx.url },
      getToken === undefined ? { optional } : { optional, getToken: () => getToken(ctx) },
    );
    verifiers.set(ctx, verifier);
    if (identity !== undefined) ctx.state.auth = identity;
    await next();
  };
}

/** Checks one rule against `ctx.state.auth`; a guard's only logic. */
export function guard(rule: AuthRule): Middleware<AuthState> {
  return function meishiGuard(ctx: ParameterizedContext<AuthState>, next) {
    const verifier = verifiers.get(ctx);
    if (verifier === undefined) authorize(ctx.state.auth, [rule]);
    else verifier.authorize(ctx.state.auth, [rule]);
    return next();
  };
}
