import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthRule,
  allRoles,
  allScopes,
  anyRole,
  anyScope,
  authorize,
  claimEquals,
  claimIncludes,
  claimSatisfies,
  createVerifier,
  type Identity,
  type InsufficientScopeError,
  MissingTokenError,
  readClaim,
  type Verifier,
} from "../src/index.node.js";

let issuer: TestIssuer;
let verifier: Verifier;
let identity: Identity;

beforeAll(async () => {
  issuer = await createTestIssuer();
  verifier = createVerifier({
    jwksUri: issuer.jwksUri,
    issuer: issuer.issuer,
    audience: issuer.audience,
    realm: "shop",
    rolesClaim: [["role"], ["realm_access", "roles"]],
  });
  identity = await verifier.verify(
    await issuer.sign({
      role: "standard user",
      realm_access: { roles: ["reader"] },
      scope: "orders:read orders:write",
      tenant: "t1",
      groups: "team a",
      "my.claim": { nested: true },
    }),
  );
});
afterAll(() => issuer.close());

function refusal(rules: AuthRule[]): InsufficientScopeError {
  try {
    authorize(identity, rules);
  } catch (error) {
    return error as InsufficientScopeError;
  }
  throw new Error("expected a refusal");
}

describe("authorization rules", () => {
  it("matches roles exactly and case-sensitively, with spaces kept", () => {
    expect(() => authorize(identity, [anyRole("standard user")])).not.toThrow();
    expect(() => authorize(identity, [anyRole("admin", "reader")])).not.toThrow();
    expect(refusal([anyRole("Standard User")]).reason).toBe("role_missing");
    expect(refusal([anyRole("standard")]).status).toBe(403);
    expect(() => authorize(identity, [allRoles("standard user", "reader")])).not.toThrow();
    expect(refusal([allRoles("standard user", "admin")]).code).toBe("insufficient_scope");
  });

  it("checks scopes and names them in the challenge", () => {
    expect(() => authorize(identity, [allScopes("orders:read", "orders:write")])).not.toThrow();
    expect(() => authorize(identity, [anyScope("x", "orders:read")])).not.toThrow();
    const error = refusal([allScopes("orders:read", "orders:delete")]);
    expect(error.reason).toBe("scope_missing");
    expect(error.headers["WWW-Authenticate"]).toContain('scope="orders:read orders:delete"');
    expect(error.headers["WWW-Authenticate"]).toContain('realm="shop"');
  });

  it("checks claims by equality, inclusion and predicate", () => {
    expect(() => authorize(identity, [claimEquals("tenant", "t1")])).not.toThrow();
    expect(refusal([claimEquals("tenant", "t2")]).reason).toBe("claim_check_failed");
    expect(() => authorize(identity, [claimIncludes("groups", "team a")])).not.toThrow();
    expect(refusal([claimIncludes("groups", "team")]).status).toBe(403);
    expect(() =>
      authorize(identity, [claimSatisfies((id) => id.sub === "user-123")]),
    ).not.toThrow();
    const throwing = claimSatisfies(() => {
      throw new Error("bug");
    }, "custom text");
    expect(refusal([throwing]).description).toBe("custom text");
  });

  it("needs every rule to pass", () => {
    expect(refusal([anyRole("standard user"), anyRole("admin")]).reason).toBe("role_missing");
  });

  it("answers a missing identity with 401", () => {
    expect(() => authorize(undefined, [anyRole("x")])).toThrow(MissingTokenError);
    expect(() => verifier.authorize(null, [])).toThrow(MissingTokenError);
  });

  it("refuses empty rule arguments at start-up", () => {
    expect(() => anyRole()).toThrow(TypeError);
    expect(() => allScopes("")).toThrow(TypeError);
  });
});

describe("readClaim", () => {
  it("splits a string on every dot and takes an array as one path's segments", () => {
    const claims = { "my.claim": 1, my: { claim: 4 }, a: { b: { c: 2 } }, x: { "y.z": 3 } };
    // A top-level name with a dot never shadows the nested path it spells.
    expect(readClaim(claims, "my.claim")).toBe(4);
    expect(readClaim(claims, ["my.claim"])).toBe(1);
    expect(readClaim(claims, "a.b.c")).toBe(2);
    expect(readClaim(claims, ["x", "y.z"])).toBe(3);
    expect(readClaim(claims, "a.missing.c")).toBeUndefined();
    expect(readClaim(claims, "constructor")).toBeUndefined();
    expect(readClaim(claims, "__proto__.toString")).toBeUndefined();
  });
});
