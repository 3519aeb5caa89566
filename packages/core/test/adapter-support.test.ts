import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorize,
  authorizeRequest,
  claimMatches,
  createRequestAuthenticator,
  createVerifier,
  InsufficientScopeError,
  InvalidTokenError,
  type MeishiEvent,
  MissingTokenError,
} from "../src/index.node.js";

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

interface FakeFrameworkRequest {
  token?: string;
}

describe("createRequestAuthenticator", () => {
  it("builds one verifier from options and authenticates framework requests", async () => {
    const auth = createRequestAuthenticator<FakeFrameworkRequest>({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      optional: true,
    });
    const token = await issuer.sign({ sub: "a" });
    const headers = { authorization: `Bearer ${token}` };
    expect((await auth.authenticate({}, { headers }))?.sub).toBe("a");
    await expect(auth.authenticate({}, { headers: {} })).resolves.toBeUndefined();
    await expect(auth.authenticate({}, { headers: {} }, false)).rejects.toBeInstanceOf(
      MissingTokenError,
    );
  });

  it("reads the token with getToken(req), and lets an application bug through as is", async () => {
    const auth = createRequestAuthenticator<FakeFrameworkRequest>({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      getToken: (req) => {
        if (req.token === "boom") throw new RangeError("bug in getToken");
        return req.token;
      },
    });
    const token = await issuer.sign({ sub: "b" });
    expect((await auth.authenticate({ token }, { headers: {} }))?.sub).toBe("b");
    await expect(auth.authenticate({}, { headers: {} })).rejects.toBeInstanceOf(MissingTokenError);
    await expect(auth.authenticate({ token: "boom" }, { headers: {} })).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(auth.authenticate({ token: "x.y.z" }, { headers: {} })).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it("accepts the shorthand and a shared verifier", async () => {
    const verifier = createVerifier({ jwksUri: issuer.jwksUri, issuer: null, audience: null });
    const shared = createRequestAuthenticator<FakeFrameworkRequest>({ verifier });
    expect(shared.verifier).toBe(verifier);
    const shorthand = createRequestAuthenticator<FakeFrameworkRequest>(new URL(issuer.jwksUri));
    const headers = { authorization: `Bearer ${await issuer.sign({ sub: "c" })}` };
    expect((await shorthand.authenticate({}, { headers }))?.sub).toBe("c");
  });
});

describe("guards outside the verifier", () => {
  it("use the realm and event listener of the verifier that made the identity", async () => {
    const events: MeishiEvent[] = [];
    const verifier = createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      realm: "orders",
      onEvent: (event) => events.push(event),
    });
    const identity = await verifier.verify(await issuer.sign({ tenant: "t1", level: 3 }));
    expect(() => authorize(identity, [claimMatches("tenant", "t1")])).not.toThrow();
    expect(() =>
      authorize(identity, [
        claimMatches("level", (value) => typeof value === "number" && value > 2),
      ]),
    ).not.toThrow();
    let refusal: unknown;
    try {
      authorize(identity, [claimMatches("tenant", "t2")]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(InsufficientScopeError);
    expect((refusal as InsufficientScopeError).headers["WWW-Authenticate"]).toContain(
      'realm="orders"',
    );
    expect(events.at(-1)).toMatchObject({
      type: "token_rejected",
      reason: "claim_check_failed",
      status: 403,
    });
  });
});

describe("authorizeRequest", () => {
  it("answers a request without identity with its verifier's realm", async () => {
    const events: MeishiEvent[] = [];
    const auth = createRequestAuthenticator<FakeFrameworkRequest>({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      realm: "orders",
      optional: true,
      onEvent: (event) => events.push(event),
    });
    const req: FakeFrameworkRequest = {};
    const identity = await auth.authenticate(req, { headers: {} });
    let refusal: unknown;
    try {
      authorizeRequest(req, identity, [claimMatches("tenant", "t1")]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(MissingTokenError);
    expect((refusal as MissingTokenError).headers["WWW-Authenticate"]).toBe(
      'Bearer realm="orders"',
    );
    expect(events.at(-1)).toMatchObject({ type: "token_rejected", reason: "missing_token" });
    // A request no verifier saw still gets a 401, with the default realm.
    expect(() => authorizeRequest({}, undefined, [])).toThrow(MissingTokenError);
  });
});
