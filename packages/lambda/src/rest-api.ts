import type { APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import {
  type AuthorizerOptions,
  type AuthorizerSettings,
  createAuthorizerEngine,
} from "./authorizer.js";
import { requestFromV1 } from "./event-request.js";
import {
  type AuthorizerPolicyResult,
  type PolicyScope,
  policyResult,
  requireArn,
} from "./policy.js";
import type { ExecuteApiArn } from "./route-rules.js";

/** Settings of the REST API authorizers. */
export interface RestAuthorizerSettings extends AuthorizerSettings {
  /**
   * What the returned policy covers: `"api"` (every route of the stage, with a Deny for each
   * configured route the caller may not use; right under caching) or `"route"` (this `methodArn`
   * only; for caching off). Default `"api"`.
   */
  policyScope?: PolicyScope;
}

/** A Lambda handler for a REST API TOKEN authorizer. */
export type TokenAuthorizer = (
  event: APIGatewayTokenAuthorizerEvent,
) => Promise<AuthorizerPolicyResult>;
/** A Lambda handler for a REST API REQUEST authorizer. */
export type RequestAuthorizer = (
  event: APIGatewayRequestAuthorizerEvent,
) => Promise<AuthorizerPolicyResult>;

function routeName(arn: ExecuteApiArn): string {
  return `${arn.method} ${arn.path}`;
}

/**
 * A REST API TOKEN authorizer: API Gateway passes the identity source header's value (set it to
 * `method.request.header.Authorization`) as `authorizationToken`. Returns an IAM policy with the
 * identity in `context`. Call it at module scope so the key cache survives warm invocations.
 *
 * No or bad token: throws `Error("Unauthorized")` (the client gets 401). A valid token that fails
 * a rule: an explicit Deny (403). Keys unavailable: another error (500), logged with its reason.
 *
 * @throws {ConfigurationError} at module load for a bad option.
 * @example
 * export const handler = createTokenAuthorizer({
 *   jwksUri: "https://auth.example.com/.well-known/jwks.json",
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   routes: { "POST /orders": anyRole("standard user") },
 * });
 */
export function createTokenAuthorizer(
  options: AuthorizerOptions<RestAuthorizerSettings>,
): TokenAuthorizer {
  const engine = createAuthorizerEngine(options, ["policyScope"]);
  const scope = options.policyScope ?? "api";
  return async (event) => {
    const arn = requireArn(event.methodArn);
    const decision = await engine.decide({
      token: { headers: { authorization: event.authorizationToken } },
      arn,
      route: routeName(arn),
    });
    return policyResult(decision, scope, arn, event.methodArn);
  };
}

/**
 * A REST API REQUEST authorizer: reads the token from the request's headers (any letter case;
 * a repeated `Authorization` header is refused), and the configured cookie or query parameter.
 * Returns an IAM policy with the identity in `context`.
 *
 * @throws {ConfigurationError} at module load for a bad option.
 * @example
 * export const handler = createRequestAuthorizer({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   rules: allScopes("orders:read"),
 * });
 */
export function createRequestAuthorizer(
  options: AuthorizerOptions<RestAuthorizerSettings>,
): RequestAuthorizer {
  const engine = createAuthorizerEngine(options, ["policyScope"]);
  const scope = options.policyScope ?? "api";
  return async (event) => {
    const arn = requireArn(event.methodArn);
    const decision = await engine.decide({
      token: requestFromV1(event),
      arn,
      route: `${event.httpMethod} ${event.resource}`,
      template: scope === "route" ? { method: event.httpMethod, path: event.resource } : undefined,
    });
    return policyResult(decision, scope, arn, event.methodArn);
  };
}
