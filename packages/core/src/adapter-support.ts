import { createVerifierFor, type Verifier } from "./create-verifier.js";
import type { TokenRequest } from "./extract-token.js";
import type { Identity } from "./identity.js";
import type { VerifierOptions } from "./options.js";
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
 * event listener of the verifier that authenticated the request.
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
): void {
  const verifier = verifierOfRequest.get(req);
  if (verifier === undefined) authorize(identity, rules);
  else verifier.authorize(identity, rules);
}

const ADAPTER_KEYS = ["optional", "getToken", "verifier", "protectAllRoutes"];

function withoutAdapterKeys(options: object): VerifierOptions {
  return options as VerifierOptions;
}

/** The one piece of per-request logic every adapter shares. */
export interface RequestAuthenticator<Req extends object> {
  readonly verifier: Verifier;
  /**
   * Authenticates a framework request. `optional` overrides the configured default (Fastify's
   * per-route config uses it).
   */
  authenticate(req: Req, request: TokenRequest, optional?: boolean): Promise<Identity | undefined>;
}

/**
 * Builds the verifier once from an adapter's options and returns the per-request call. Adapters
 * are thin because this, not they, knows the option forms.
 *
 * @throws {ConfigurationError} at start-up for a bad option.
 * @example
 * const auth = createRequestAuthenticator<Request>(options);
 * const identity = await auth.authenticate(req, { headers: req.headers, url: req.originalUrl });
 */
export function createRequestAuthenticator<Req extends object>(
  options: string | URL | AdapterOptions<Req>,
): RequestAuthenticator<Req> {
  const shorthand = typeof options === "string" || options instanceof URL;
  // Adapter-only keys (optional, getToken, protectAllRoutes, …) are ignored by createVerifier.
  const context = { caller: "jwtAuth()", adapterKeys: ADAPTER_KEYS };
  const verifier = shorthand
    ? createVerifierFor(options, context)
    : (options.verifier ?? createVerifierFor(withoutAdapterKeys(options), context));
  const optionalByDefault = !shorthand && options.optional === true;
  const getToken = shorthand ? undefined : options.getToken;
  return {
    verifier,
    authenticate: (req, request, optional = optionalByDefault) => {
      verifierOfRequest.set(req, verifier);
      return verifier.authenticate(
        request,
        getToken === undefined ? { optional } : { optional, getToken: () => getToken(req) },
      );
    },
  };
}
