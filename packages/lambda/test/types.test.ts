import type { AuthorizerPolicyResult, HttpApiSimpleResult, IdentityContext } from "@meishi/lambda";
import {
  createHttpApiAuthorizer,
  createRequestAuthorizer,
  createTokenAuthorizer,
} from "@meishi/lambda";
import type {
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from "aws-lambda";
import { describe, expectTypeOf, it } from "vitest";

const options = { jwksUri: "https://auth.example.com/jwks", issuer: "i", audience: "a" };

// Type-level only: the factories are never called, so nothing is fetched.
describe("types", () => {
  it("gives the HTTP API handler the result type of its response mode", () => {
    const simple = () => createHttpApiAuthorizer(options);
    const policy = () => createHttpApiAuthorizer({ ...options, response: "policy" });
    expectTypeOf<ReturnType<ReturnType<typeof simple>>>().toEqualTypeOf<
      Promise<HttpApiSimpleResult>
    >();
    expectTypeOf<ReturnType<ReturnType<typeof policy>>>().toEqualTypeOf<
      Promise<AuthorizerPolicyResult>
    >();
    expectTypeOf<
      Parameters<ReturnType<typeof simple>>[0]
    >().toEqualTypeOf<APIGatewayRequestAuthorizerEventV2>();
  });

  it("takes the documented REST events", () => {
    const token = () => createTokenAuthorizer(options);
    const request = () => createRequestAuthorizer(options);
    expectTypeOf<
      Parameters<ReturnType<typeof token>>[0]
    >().toEqualTypeOf<APIGatewayTokenAuthorizerEvent>();
    expectTypeOf<
      Parameters<ReturnType<typeof request>>[0]
    >().toEqualTypeOf<APIGatewayRequestAuthorizerEvent>();
  });

  it("keeps context values flat", () => {
    expectTypeOf<IdentityContext["roles"]>().toEqualTypeOf<string>();
    expectTypeOf<IdentityContext[string]>().toEqualTypeOf<string | number | boolean>();
  });

  it("refuses options that do not exist or have the wrong shape", () => {
    // @ts-expect-error policyScope is "api" or "route"
    const badScope = () => createTokenAuthorizer({ ...options, policyScope: "stage" });
    // @ts-expect-error response is "simple" or "policy"
    const badResponse = () => createHttpApiAuthorizer({ ...options, response: "json" });
    const noAudience = () =>
      // @ts-expect-error issuer and audience are required (null to skip one, by name)
      createTokenAuthorizer({ jwksUri: "https://auth.example.com/jwks", issuer: "i" });
    expectTypeOf(badScope).toBeFunction();
    expectTypeOf(badResponse).toBeFunction();
    expectTypeOf(noAudience).toBeFunction();
  });
});
