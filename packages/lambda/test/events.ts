// Events shaped as AWS documents them (API Gateway developer guide, "Amazon API Gateway Lambda
// authorizer input" and "HTTP API Lambda authorizer payload format"), with only the token,
// route and ARN changed per test.
import type {
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from "aws-lambda";

export const STAGE_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test";

export function httpApiEvent(
  overrides: {
    headers?: Record<string, string>;
    routeKey?: string;
    method?: string;
    path?: string;
    cookies?: string[];
    rawQueryString?: string;
  } = {},
): APIGatewayRequestAuthorizerEventV2 {
  const method = overrides.method ?? "GET";
  const path = overrides.path ?? "/orders";
  return {
    version: "2.0",
    type: "REQUEST",
    routeArn: `${STAGE_ARN}/${method}${path}`,
    identitySource: [overrides.headers?.authorization ?? ""],
    routeKey: overrides.routeKey ?? `${method} ${path}`,
    rawPath: path,
    rawQueryString: overrides.rawQueryString ?? "parameter1=value1&parameter1=value2",
    cookies: overrides.cookies ?? ["cookie1=value1", "cookie2=value2"],
    headers: { accept: "*/*", "user-agent": "curl/8.5.0", ...overrides.headers },
    queryStringParameters: { parameter1: "value1,value2" },
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdef123",
      domainName: "abcdef123.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "abcdef123",
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "curl/8.5.0",
      },
      requestId: "Ab1cDEFgHIjkLM=",
      routeKey: overrides.routeKey ?? `${method} ${path}`,
      stage: "test",
      time: "12/Mar/2020:19:03:58 +0000",
      timeEpoch: 1583348638390,
    },
    pathParameters: {},
    stageVariables: { stageVariable1: "value1" },
  };
}

export function tokenEvent(
  authorizationToken: string,
  method = "GET",
  path = "/orders",
): APIGatewayTokenAuthorizerEvent {
  return { type: "TOKEN", authorizationToken, methodArn: `${STAGE_ARN}/${method}${path}` };
}

export function requestEvent(
  overrides: {
    headers?: Record<string, string>;
    multiValueHeaders?: Record<string, string[]>;
    method?: string;
    resource?: string;
    path?: string;
  } = {},
): APIGatewayRequestAuthorizerEvent {
  const method = overrides.method ?? "GET";
  const path = overrides.path ?? "/orders";
  const headers = {
    Accept: "*/*",
    "CloudFront-Viewer-Country": "US",
    Host: "abcdef123.execute-api.us-east-1.amazonaws.com",
    "User-Agent": "curl/8.5.0",
    ...overrides.headers,
  };
  const multiValueHeaders =
    overrides.multiValueHeaders ??
    Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
  // The documented REQUEST event; requestContext carries more fields than the type needs here.
  return {
    type: "REQUEST",
    methodArn: `${STAGE_ARN}/${method}${path}`,
    resource: overrides.resource ?? path,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: { QueryString1: "queryValue1" },
    multiValueQueryStringParameters: { QueryString1: ["queryValue1"] },
    pathParameters: {},
    stageVariables: { StageVar1: "stageValue1" },
    requestContext: {
      path: `/test${path}`,
      accountId: "123456789012",
      resourceId: "05c7jb",
      stage: "test",
      requestId: "e9f0d8a6-0e94-4f5a-a1a9-7f2b2f0b0c3d",
      identity: {
        sourceIp: "203.0.113.7",
        userAgent: "curl/8.5.0",
      },
      resourcePath: overrides.resource ?? path,
      httpMethod: method,
      apiId: "abcdef123",
    },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}
