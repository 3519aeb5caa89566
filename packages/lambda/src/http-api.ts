import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from "aws-lambda";
import {
  type AuthorizerOptions,
  type AuthorizerSettings,
  createAuthorizerEngine,
} from "./authorizer.js";
import type { IdentityContext } from "./authorizer-context.js";
import { requestFromV2 } from "./event-request.js";
import {
  type AuthorizerPolicyResult,
  type PolicyScope,
  policyResult,
  requireArn,
} from "./policy.js";
import { parseExecuteApiArn, templateOfRouteKey } from "./route-rules.js";

function templateOf(event: APIGatewayRequestAuthorizerEventV2) {
  return templateOfRouteKey(event.routeKey, event.requestContext.http.method);
}

/** Settings of {@link createHttpApiAuthorizer}. */
export interface HttpApiAuthorizerSettings extends AuthorizerSettings {
  /**
   * `"simple"` for an authorizer with `enableSimpleResponses: true` (`{ isAuthorized, context }`),
   * `"policy"` for one that returns an IAM policy. Default `"simple"`.
   */
  response?: "simple" | "policy";
  /** With `response: "policy"`: what the policy covers (see README). Default `"api"`. */
  policyScope?: PolicyScope;
}

/** The simple response: `isAuthorized` and the caller's identity as `context`. */
export type HttpApiSimpleResult = APIGatewaySimpleAuthorizerWithContextResult<IdentityContext>;

/** A Lambda handler for an HTTP API authorizer with simple responses. */
export type HttpApiSimpleAuthorizer = (
  event: APIGatewayRequestAuthorizerEventV2,
) => Promise<HttpApiSimpleResult>;
/** A Lambda handler for an HTTP API authorizer that returns IAM policies. */
export type HttpApiPolicyAuthorizer = (
  event: APIGatewayRequestAuthorizerEventV2,
) => Promise<AuthorizerPolicyResult>;

/**
 * A Lambda authorizer for an API Gateway HTTP API (payload format 2.0). Call it at module scope:
 * the verifier and its key cache then live across warm invocations.
 *
 * - No token, or a bad one: the handler throws `Error("Unauthorized")`; the client gets
 *   401 `{"message":"Unauthorized"}`.
 * - A valid token that fails a rule: `isAuthorized: false` (or an explicit Deny); the client
 *   gets 403 `{"message":"Forbidden"}`.
 * - Keys unavailable with nothing cached: the handler throws another error, logged with its
 *   reason; the client gets 500.
 *
 * @throws {ConfigurationError} at module load for a bad option.
 * @example
 * import { anyRole } from "@meishi/core";
 * import { createHttpApiAuthorizer } from "@meishi/lambda";
 *
 * export const handler = createHttpApiAuthorizer({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   routes: { "DELETE /orders/{id}": anyRole("admin") },
 * });
 */
export function createHttpApiAuthorizer(
  options: AuthorizerOptions<HttpApiAuthorizerSettings & { response: "policy" }>,
): HttpApiPolicyAuthorizer;
export function createHttpApiAuthorizer(
  options: AuthorizerOptions<HttpApiAuthorizerSettings & { response?: "simple" }>,
): HttpApiSimpleAuthorizer;
export function createHttpApiAuthorizer(
  options: AuthorizerOptions<HttpApiAuthorizerSettings>,
): HttpApiSimpleAuthorizer | HttpApiPolicyAuthorizer {
  const engine = createAuthorizerEngine(options, ["response", "policyScope"]);
  const policyScope = options.policyScope ?? "api";

  if (options.response === "policy") {
    return async (event) => {
      const arn = requireArn(event.routeArn);
      const decision = await engine.decide({
        token: requestFromV2(event),
        arn,
        route: event.routeKey,
        template: policyScope === "route" ? templateOf(event) : undefined,
      });
      return policyResult(decision, policyScope, arn, event.routeArn);
    };
  }
  return async (event) => {
    const decision = await engine.decide({
      token: requestFromV2(event),
      arn: parseExecuteApiArn(event.routeArn),
      route: event.routeKey,
      template: templateOf(event),
    });
    return { isAuthorized: decision.allowedHere, context: decision.context };
  };
}
