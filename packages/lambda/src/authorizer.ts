import {
  type AuthRule,
  ConfigurationError,
  createVerifier,
  type Identity,
  isAuthError,
  type TokenRequest,
  type Verifier,
  type VerifierOptions,
} from "@meishi/core";
import { buildContext, type IdentityContext } from "./authorizer-context.js";
import { type KeySnapshot, readJwksSnapshot, withKeySnapshot } from "./key-snapshot.js";
import {
  type CompiledRoute,
  compileRoutes,
  type ExecuteApiArn,
  type RouteTemplate,
} from "./route-rules.js";

/** Why a request was refused, or why the authorizer failed: what `onRefusal` receives. */
export interface AuthorizerRefusal {
  /**
   * `unauthorized`: no or bad token (API Gateway answers 401); `deny`: a valid token without the
   * role or scope (403); `error`: the keys or revocation store could not be had (500).
   */
  outcome: "unauthorized" | "deny" | "error";
  /** core's reason code (`token_expired`, `role_missing`, `keys_unavailable`, …). */
  reason: string;
  /** The route as API Gateway named it (`routeKey`, or `VERB /path` from the ARN). */
  route: string;
  /** The caller, for a `deny`. */
  sub?: string | undefined;
  /** Expected vs actual values, when core provides them. */
  details?: unknown;
}

/** Settings every authorizer shares, on top of the verifier options. */
export interface AuthorizerSettings {
  /** Rules every route requires, e.g. `[allScopes("api")]`. Default: none (a valid token). */
  rules?: AuthRule | readonly AuthRule[];
  /**
   * Rules per route, keyed `"VERB /path"` as API Gateway writes routes: `"GET /orders/{id}"`,
   * `"ANY /admin/{proxy+}"`, `"DELETE /orders/*"`. A request must pass the rules of every key
   * that matches it. Where the event names its route template, keys match the template; in a
   * caller-wide policy they are IAM patterns, where `{param}` and `*` match any characters,
   * `/` included.
   */
  routes?: Readonly<Record<string, AuthRule | readonly AuthRule[]>>;
  /** Adds values to the returned `context`; arrays and objects become JSON text. */
  context?: (identity: Identity) => Readonly<Record<string, unknown>>;
  /**
   * Keys to start with, so a cold start needs no fetch: a snapshot from
   * `meishi jwks <uri> --snapshot` (or core's `keySource.snapshot()`) as the object (a JSON file
   * bundled at deploy time) or its JSON text (`process.env.MEISHI_JWKS_SNAPSHOT`). The remote
   * source then fetches only once the snapshot is past its `expiresAt`. A plain JWKS is accepted
   * with `offline: true`. Empty or `undefined` means none.
   */
  jwksSnapshot?: KeySnapshot | string | undefined;
  /**
   * Verify with the snapshot only and never fetch: rotating keys then needs a new deployment.
   * Default `false`.
   */
  offline?: boolean;
  /**
   * Called for every refusal and failure with the route, the reason and core's details, e.g.
   * for an audit log or metrics. Default: none (core's rate-limited `logger` already explains
   * refusals and outages on the console).
   */
  onRefusal?: (refusal: AuthorizerRefusal) => void;
}

// Omit over each member of the union, so single- and multi-issuer options both keep their shape.
type WithoutSnapshot<Options> = Options extends unknown ? Omit<Options, "jwksSnapshot"> : never;

/**
 * An authorizer's options: verifier options (or a shared `verifier`) plus its own settings.
 * `jwksSnapshot` is the authorizer's own, wider form of core's option.
 */
export type AuthorizerOptions<Settings extends AuthorizerSettings = AuthorizerSettings> =
  | (WithoutSnapshot<VerifierOptions> & Settings & { verifier?: undefined })
  | (Settings & { verifier: Verifier });

/** The message API Gateway turns into `401 {"message":"Unauthorized"}`; any other text is a 500. */
export const UNAUTHORIZED_MESSAGE = "Unauthorized";

/** What a valid token may do, for one request. */
export interface Decision {
  readonly identity: Identity;
  readonly context: IdentityContext;
  readonly passesGlobalRules: boolean;
  /** Configured routes whose rules the caller fails. */
  readonly failedRoutes: readonly CompiledRoute[];
  /** Whether this request's route is allowed. */
  readonly allowedHere: boolean;
}

/** The request as the authorizer sees it. */
export interface AuthorizerRequest {
  readonly token: TokenRequest;
  readonly arn: ExecuteApiArn | undefined;
  /** Name of the route for logs. */
  readonly route: string;
  /**
   * The route template, when the event names it and the answer covers this request only: rules
   * then apply by template. Left out for a caller-wide policy, whose IAM patterns decide.
   */
  readonly template?: RouteTemplate | undefined;
}

export interface AuthorizerEngine {
  decide(request: AuthorizerRequest): Promise<Decision>;
}

const SETTINGS_KEYS = [
  "rules",
  "routes",
  "context",
  "jwksSnapshot",
  "offline",
  "onRefusal",
  "verifier",
];

function buildVerifier(options: AuthorizerOptions, settingsKeys: readonly string[]): Verifier {
  const snapshot = readJwksSnapshot(options.jwksSnapshot);
  if (options.verifier !== undefined) {
    if (snapshot !== undefined || options.offline === true) {
      throw new ConfigurationError(
        "jwksSnapshot and offline configure a verifier: pass them to createVerifier instead",
      );
    }
    return options.verifier;
  }
  const verifierOptions: Record<string, unknown> = { ...options };
  for (const key of [...SETTINGS_KEYS, ...settingsKeys]) delete verifierOptions[key];
  return createVerifier(
    withKeySnapshot(
      verifierOptions as unknown as VerifierOptions,
      snapshot,
      options.offline === true,
    ),
  );
}

function toList(rules: AuthRule | readonly AuthRule[] | undefined): readonly AuthRule[] {
  if (rules === undefined) return [];
  return Array.isArray(rules) ? [...rules] : [rules as AuthRule];
}

/**
 * Builds, once per module load, the verifier (whose key cache then lives across warm
 * invocations) and the compiled routes; returns the per-event decision.
 */
export function createAuthorizerEngine(
  options: AuthorizerOptions,
  settingsKeys: readonly string[],
): AuthorizerEngine {
  const verifier = buildVerifier(options, settingsKeys);
  const globalRules = toList(options.rules);
  const routes = compileRoutes(options.routes);
  const onRefusal = options.onRefusal;
  const report = (refusal: AuthorizerRefusal): void => {
    try {
      onRefusal?.(refusal);
    } catch {
      // An audit hook's bug must not turn a 401 or a 403 into a 500.
    }
  };
  const extraContext = options.context;

  function passes(identity: Identity, rules: readonly AuthRule[]): boolean {
    return rules.every((rule) => rule.test(identity));
  }

  async function authenticate(request: AuthorizerRequest): Promise<Identity> {
    try {
      return await verifier.authenticate(request.token);
    } catch (error) {
      if (isAuthError(error) && error.status < 500) {
        report({
          outcome: "unauthorized",
          reason: error.reason,
          route: request.route,
          details: error.details,
        });
        throw new Error(UNAUTHORIZED_MESSAGE);
      }
      // A real outage (no keys, revocation store down) or a bug: API Gateway answers 500 and the
      // client learns nothing, so the reason goes into the message, which Lambda's runtime logs.
      const reason = isAuthError(error) ? error.reason : "internal_error";
      report({ outcome: "error", reason, route: request.route });
      throw new Error(`meishi: cannot verify tokens right now (${reason})`, { cause: error });
    }
  }

  return {
    async decide(request) {
      const identity = await authenticate(request);
      const passesGlobalRules = passes(identity, globalRules);
      const failedRoutes = routes.filter((route) => !passes(identity, route.rules));
      const arn = request.arn;
      if (arn === undefined && routes.length > 0) {
        report({ outcome: "error", reason: "unknown_route", route: request.route });
        throw new Error("meishi: the event's methodArn/routeArn is not an execute-api ARN");
      }
      const template = request.template;
      const failedHere = failedRoutes.filter((route) =>
        template !== undefined
          ? route.matchesTemplate(template.method, template.path)
          : arn !== undefined && route.matches(arn.method, arn.path),
      );
      const allowedHere = passesGlobalRules && failedHere.length === 0;
      if (!allowedHere) {
        const failedRule = passesGlobalRules
          ? failedHere[0]!.rules.find((rule) => !rule.test(identity))
          : globalRules.find((rule) => !rule.test(identity));
        report({
          outcome: "deny",
          reason: failedRule?.reason ?? "claim_check_failed",
          route: request.route,
          sub: identity.sub,
          details: failedRule?.explain?.(identity, undefined),
        });
      }
      return {
        identity,
        context: buildContext(identity, extraContext),
        passesGlobalRules,
        failedRoutes,
        allowedHere,
      };
    },
  };
}
