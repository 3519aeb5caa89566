import type { APIGatewayAuthorizerWithContextResult, PolicyDocument, Statement } from "aws-lambda";
import type { Decision } from "./authorizer.js";
import type { IdentityContext } from "./authorizer-context.js";
import { type CompiledRoute, type ExecuteApiArn, parseExecuteApiArn } from "./route-rules.js";

/** The IAM policy response, with the identity as `context`. */
export type AuthorizerPolicyResult = APIGatewayAuthorizerWithContextResult<IdentityContext>;

/**
 * What the returned IAM policy covers.
 * - `"api"`: every route of this API stage, with an explicit Deny for each configured route whose
 *   rules the caller fails. API Gateway caches the policy per identity source and reuses it for
 *   every route, so this is the only scope that stays right for all routes under caching.
 * - `"route"`: only the `methodArn` of this request. Use it only with caching off (TTL 0) or with
 *   the route in the identity source; otherwise a cached policy denies the caller's other routes.
 */
export type PolicyScope = "api" | "route";

const INVOKE = "execute-api:Invoke";

function statement(effect: "Allow" | "Deny", resources: string[]): Statement {
  return {
    Effect: effect,
    Action: INVOKE,
    Resource: resources.length === 1 ? resources[0]! : resources,
  };
}

/** The policy for a caller whose identity is valid. */
export function buildPolicy(options: {
  scope: PolicyScope;
  arn: ExecuteApiArn;
  methodArn: string;
  /** Whether the caller passes the rules that apply to every route. */
  passesGlobalRules: boolean;
  /** Configured routes whose rules the caller fails. */
  failedRoutes: readonly CompiledRoute[];
  /** Whether this request's route is allowed. */
  allowedHere: boolean;
}): PolicyDocument {
  if (options.scope === "route") {
    return {
      Version: "2012-10-17",
      Statement: [statement(options.allowedHere ? "Allow" : "Deny", [options.methodArn])],
    };
  }
  const everyRoute = `${options.arn.stageArn}/*`;
  if (!options.passesGlobalRules) {
    return { Version: "2012-10-17", Statement: [statement("Deny", [everyRoute])] };
  }
  const statements = [statement("Allow", [everyRoute])];
  // IAM: an explicit Deny wins over any Allow, so the routes this caller may not use stay closed
  // even though the Allow above covers the whole stage.
  if (options.failedRoutes.length > 0) {
    statements.push(
      statement(
        "Deny",
        options.failedRoutes.map((route) => `${options.arn.stageArn}/${route.arnSuffix}`),
      ),
    );
  }
  return { Version: "2012-10-17", Statement: statements };
}

export function policyResult(
  decision: Decision,
  scope: PolicyScope,
  arn: ExecuteApiArn,
  methodArn: string,
): AuthorizerPolicyResult {
  return {
    principalId: decision.identity.sub ?? "unknown",
    policyDocument: buildPolicy({ scope, arn, methodArn, ...decision }),
    context: decision.context,
  };
}

export function requireArn(methodArn: string): ExecuteApiArn {
  const arn = parseExecuteApiArn(methodArn);
  if (arn === undefined) {
    throw new Error("meishi: the event's methodArn/routeArn is not an execute-api ARN");
  }
  return arn;
}
