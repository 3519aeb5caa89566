import { type AuthRule, ConfigurationError } from "@meishi/core";

/** The parts of an `execute-api` ARN (`arn:aws:execute-api:region:account:api/stage/VERB/path`). */
export interface ExecuteApiArn {
  /** `arn:aws:execute-api:region:account:apiId/stage`, the prefix every route of the stage shares. */
  readonly stageArn: string;
  readonly apiId: string;
  readonly stage: string;
  /** The HTTP verb as API Gateway wrote it (`GET`, …). */
  readonly method: string;
  /** The request path, starting with `/`. */
  readonly path: string;
}

/**
 * Splits a `methodArn` / `routeArn`. Returns `undefined` for anything that is not an
 * `execute-api` ARN, so a hand-made test event cannot make the authorizer allow `*`.
 */
export function parseExecuteApiArn(arn: string): ExecuteApiArn | undefined {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn" || parts[2] !== "execute-api") return undefined;
  const resource = parts.slice(5).join(":");
  const [apiId, stage, method, ...path] = resource.split("/");
  if (apiId === undefined || apiId === "" || stage === undefined || stage === "") return undefined;
  if (method === undefined || method === "") return undefined;
  return {
    stageArn: `${parts.slice(0, 5).join(":")}:${apiId}/${stage}`,
    apiId,
    stage,
    method,
    path: `/${path.join("/")}`,
  };
}

/** One configured route: its key as written, the IAM resource suffix it covers, and its rules. */
export interface CompiledRoute {
  readonly key: string;
  /** `VERB/path` with IAM wildcards, appended to the stage ARN in a policy. */
  readonly arnSuffix: string;
  readonly rules: readonly AuthRule[];
  /** Matches a request's verb and actual path the way IAM matches the policy resource. */
  readonly matches: (method: string, path: string) => boolean;
  /**
   * Matches the route template API Gateway chose (`/orders/{id}`), when the event names it:
   * a `{param}` in the key then stands for that parameter only, not for deeper paths.
   */
  readonly matchesTemplate: (method: string, template: string) => boolean;
}

/** The route API Gateway matched, as the event names it. */
export interface RouteTemplate {
  /** The request's verb (also for a route defined with `ANY`). */
  readonly method: string;
  /** The route's path template, e.g. `/orders/{id}`. */
  readonly path: string;
}

/** The template of an HTTP API `routeKey` (`"GET /orders/{id}"`); none for `$default`. */
export function templateOfRouteKey(routeKey: string, method: string): RouteTemplate | undefined {
  const space = routeKey.indexOf(" ");
  if (space === -1) return undefined;
  return { method, path: routeKey.slice(space + 1) };
}

const ROUTE_KEY = /^(\*|ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\/\S*)$/;

function toArnSuffix(method: string, path: string): string {
  const verb = method === "ANY" ? "*" : method;
  // Path parameters ({id}, {proxy+}) become IAM wildcards; the leading "/" joins verb and path.
  return `${verb}${path.replace(/\{[^}]*\}/g, "*")}`;
}

// IAM's `*` matches any run of characters, "/" included; matching a request the same way keeps
// the answer for one request equal to what the cached policy later says for it.
function globToRegExp(glob: string): RegExp {
  const source = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`);
}

/**
 * Compiles `{ "GET /orders/{id}": [anyRole("admin")] }` into matchers and IAM resources.
 * @throws {ConfigurationError} for a key that is not `VERB /path`.
 */
export function compileRoutes(
  routes: Readonly<Record<string, AuthRule | readonly AuthRule[]>> | undefined,
): readonly CompiledRoute[] {
  if (routes === undefined) return [];
  return Object.entries(routes).map(([key, rules]) => {
    const match = ROUTE_KEY.exec(key);
    if (match === null) {
      throw new ConfigurationError(
        `routes key ${JSON.stringify(key)} must be "VERB /path" (e.g. "GET /orders/{id}", "ANY /admin/*")`,
      );
    }
    const method = match[1]!;
    const path = match[2]!;
    const arnSuffix = toArnSuffix(method, path);
    const pattern = globToRegExp(arnSuffix);
    // Against a template, only `*` is a wildcard; `{id}` must meet `{id}` itself.
    const templatePattern = globToRegExp(path);
    const anyMethod = method === "ANY" || method === "*";
    return Object.freeze({
      key,
      arnSuffix,
      rules: Object.freeze(Array.isArray(rules) ? [...rules] : [rules as AuthRule]),
      matches: (requestMethod: string, requestPath: string) =>
        pattern.test(`${requestMethod}${requestPath}`),
      matchesTemplate: (requestMethod: string, template: string) =>
        (anyMethod || method === requestMethod) && templatePattern.test(template),
    });
  });
}
