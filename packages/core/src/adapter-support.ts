import {
  type AuthenticateNow,
  type AuthenticateOptions,
  authenticateNow,
  createVerifierFor,
  type Verifier,
} from "./create-verifier.js";
import type { DiagnosticLogger } from "./diagnostics.js";
import { ConfigurationError, MissingTokenError } from "./errors.js";
import type { TokenRequest } from "./extract-token.js";
import { type Identity, originOf } from "./identity.js";
import type { VerifierOptions } from "./options.js";
import { platform } from "./platform.js";
import { type MetadataResponse, metadataResponse } from "./resource-metadata.js";
import type { AuthRule } from "./rules.js";
import { authorize } from "./rules.js";

/** Per-request options every adapter offers, typed by the framework's request. */
export interface RequestAuthOptions<Req> {
  /**
   * Let requests without a token through with no identity. A token that is sent but invalid is
   * still refused. Default `false`.
   */
  optional?: boolean;
  /** Read the token yourself (return `undefined` for none). Default: RFC 6750 §2.1 extraction. */
  getToken?: (req: Req) => string | undefined | Promise<string | undefined>;
}

/**
 * What an adapter's `jwtAuth()` accepts: a JWKS URL (the shorthand), verifier options, or a
 * prebuilt `verifier` to share one key cache between several middlewares; plus the per-request
 * options.
 */
export type AdapterOptions<Req> =
  | (VerifierOptions & RequestAuthOptions<Req> & { verifier?: undefined })
  | (RequestAuthOptions<Req> & { verifier: Verifier });

// Which verifier saw a request, so a guard that finds no identity (optional auth, or a guard
// without jwtAuth) still answers with that verifier's realm and reports to its listener.
const verifierOfRequest = new WeakMap<object, Verifier>();

/**
 * The guard every adapter uses: checks rules against the request's identity with the realm and
 * event listener of the verifier that authenticated the request. `log` is where the refusal's
 * reason goes (Fastify passes `request.log`); default, the verifier's logger.
 *
 * @throws {MissingTokenError} 401 when the request has no identity.
 * @throws {InsufficientScopeError} 403 when a rule fails.
 * @example
 * authorizeRequest(req, req.auth, [anyRole("admin")]);
 */
export function authorizeRequest(
  req: object,
  identity: Identity | undefined | null,
  rules: readonly AuthRule[],
  log?: DiagnosticLogger,
): void {
  const verifier = verifierOfRequest.get(req);
  if (verifier !== undefined) {
    verifier.authorize(identity, rules, log === undefined ? {} : { log });
    return;
  }
  if (identity === undefined || identity === null) {
    // No jwtAuth ran on this request: a guard mounted without authentication. The client still
    // gets the plain 401 challenge; the reason and the warning tell the developer why.
    warnGuardWithoutAuthentication();
    throw new MissingTokenError({ reason: "guard_without_authentication" });
  }
  // An identity carries its verifier (realm, challenges, reporting): see createIdentity.
  const viaVerifier = originOf(identity)?.authorize;
  if (viaVerifier !== undefined) viaVerifier(identity, rules, log);
  else authorize(identity, rules, log === undefined ? {} : { log });
}

let warnedGuardWithoutAuthentication = false;

function warnGuardWithoutAuthentication(): void {
  if (warnedGuardWithoutAuthentication) return;
  warnedGuardWithoutAuthentication = true;
  platform.emitWarning(
    "meishi: a guard (requireRole, requireScope, …) ran on a request that no jwtAuth() " +
      "authenticated, so it answered 401 even if a valid token was sent. Mount jwtAuth() " +
      "before the guard, on the same route or earlier.",
    "MEISHI_GUARD_WITHOUT_AUTH",
  );
}

/** The one piece of per-request logic every adapter shares. */
export interface RequestAuthenticator<Req extends object> {
  readonly verifier: Verifier;
  /**
   * Authenticates a framework request. `optional` overrides the configured default (Fastify's
   * per-route config uses it).
   */
  /**
   * Returns the identity at once (no promise) when the verified-token cache answers, so an
   * adapter can go on synchronously; otherwise a promise.
   */
  authenticate(
    req: Req,
    request: TokenRequest,
    optional?: boolean,
    log?: DiagnosticLogger,
    setHeader?: (name: string, value: string) => void,
  ): Identity | undefined | Promise<Identity | undefined>;
  /**
   * The RFC 9728 metadata answer for a request to its well-known path (when `resourceMetadata`
   * is configured), else `undefined`: the adapter sends it as is, before authenticating.
   * `url` is the request target as received (path and query).
   */
  metadataFor(method: string, url: string): MetadataResponse | undefined;
}

/** Who builds the authenticator, so configuration errors name the user's own call. */
export interface AdapterContext {
  /** The user's call, e.g. `jwtAuth() from @meishi/express`. */
  readonly caller: string;
  /** The adapter's own option names beyond `optional`, `getToken` and `verifier`. */
  readonly adapterKeys?: readonly string[];
}

const REQUEST_OPTION_KEYS = ["optional", "getToken", "verifier"] as const;

/**
 * Builds the verifier once from an adapter's options and returns the per-request call. Adapters
 * are thin because this, not they, knows the option forms.
 *
 * @throws {ConfigurationError} at start-up for a bad option.
 * @example
 * const auth = createRequestAuthenticator<Request>(options, { caller: "jwtAuth() from @meishi/express" });
 * const identity = await auth.authenticate(req, { headers: req.headers, url: req.originalUrl });
 */
export function createRequestAuthenticator<Req extends object>(
  options: string | URL | AdapterOptions<Req>,
  context: AdapterContext,
): RequestAuthenticator<Req> {
  checkOptionsShape(options, context.caller);
  const shorthand = typeof options === "string" || options instanceof URL;
  const verifierContext = {
    caller: context.caller,
    adapterKeys: [...REQUEST_OPTION_KEYS, ...(context.adapterKeys ?? [])],
  };
  const verifier = shorthand
    ? createVerifierFor(options, verifierContext)
    : (options.verifier ?? createVerifierFor(options as VerifierOptions, verifierContext));
  const optionalByDefault = !shorthand && options.optional === true;
  // meishi's own verifier has a synchronous path for cache hits; any other object (a wrapper
  // around one included) takes the promise path.
  const now = Object.hasOwn(verifier, authenticateNow)
    ? (verifier as unknown as Record<typeof authenticateNow, AuthenticateNow>)[authenticateNow]
    : undefined;
  const getToken = shorthand ? undefined : options.getToken;
  if (getToken !== undefined && typeof getToken !== "function") {
    throw new ConfigurationError(`${context.caller}: getToken must be a function`);
  }
  return {
    verifier,
    authenticate: (req, request, optional = optionalByDefault, log, setHeader) => {
      const options: AuthenticateOptions = { optional };
      if (getToken !== undefined) options.getToken = () => getToken(req);
      if (log !== undefined) options.log = log;
      if (setHeader !== undefined) options.setHeader = setHeader;
      const result =
        now === undefined ? verifier.authenticate(request, options) : now(request, options);
      // A request with an identity needs no record: its guards find the realm on the identity.
      // Without one (optional auth, or a refusal), guards must know this verifier saw it.
      if (result === undefined || result instanceof Promise) verifierOfRequest.set(req, verifier);
      return result;
    },
    metadataFor: (method, url) => {
      const metadata = verifier.resourceMetadata;
      if (metadata === undefined) return undefined;
      const end = url.search(/[?#]/);
      return metadataResponse(metadata, method, end === -1 ? url : url.slice(0, end));
    },
  };
}

// `jwtAuth()` with nothing, or `jwtAuth(process.env.JWKS_URI)` with the variable unset, must
// fail at start-up naming the user's call, not deep inside option parsing.
function checkOptionsShape(options: unknown, caller: string): void {
  if (typeof options === "string" || options instanceof URL) return;
  if (typeof options === "object" && options !== null && !Array.isArray(options)) return;
  const got = options === undefined ? "nothing" : options === null ? "null" : typeof options;
  throw new ConfigurationError(
    `${caller}: pass a JWKS URL or options such as { jwksUri, issuer, audience }, got ${got}`,
  );
}
