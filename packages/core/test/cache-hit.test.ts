import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createRequestAuthenticator,
  createVerifier,
  type Identity,
  type TokenRequest,
  type Verifier,
} from "../src/index.node.js";

// The synchronous cache-hit path locates the token without the extraction's shape checks and
// keys the cache by the signature's tail. Whatever a request looks like, a verifier that has
// the token cached must answer exactly as one seeing it for the first time.

let issuer: TestIssuer;
let token: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  token = await issuer.sign({ sub: "cached-user" });
});
afterAll(() => issuer.close());

const context = { caller: "jwtAuth() from @meishi/test" };

interface Extra {
  cookieName?: string;
  allowInsecureQueryToken?: boolean;
}

function authenticator(extra: Extra | { verifier: Verifier } = {}) {
  return createRequestAuthenticator<object>(
    "verifier" in extra
      ? extra
      : { jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience, ...extra },
    context,
  );
}

async function outcome(
  auth: ReturnType<typeof authenticator>,
  request: TokenRequest,
): Promise<string> {
  try {
    const identity = await auth.authenticate({}, request, false);
    return `accepted ${identity?.sub}`;
  } catch (error) {
    const { name, reason } = error as { name: string; reason?: string };
    return `${name} ${reason}`;
  }
}

/** Request variants built around the token; each names what it tries. */
function variants(t: string): Record<string, TokenRequest> {
  return {
    plain: { headers: { authorization: `Bearer ${t}` } },
    "scheme in capitals": { headers: { authorization: `BEARER ${t}` } },
    "two spaces after the scheme": { headers: { authorization: `Bearer  ${t}` } },
    "two raw Authorization headers": {
      headers: { authorization: `Bearer ${t}` },
      rawHeaders: ["Authorization", `Bearer ${t}`, "authorization", `Bearer ${t}`],
    },
    "headers as an array": { headers: { authorization: [`Bearer ${t}`, `Bearer ${t}`] } },
    "folded duplicates": { headers: { authorization: `Bearer ${t}, Bearer ${t}` } },
    "two credentials": { headers: { authorization: `Bearer ${t} ${t}` } },
    "a tab inside": { headers: { authorization: `Bearer ${t}\tx` } },
    "another scheme": { headers: { authorization: `Basic ${t}` } },
    "scheme glued to the token": { headers: { authorization: `Bearer${t}` } },
    "token with a padding sign": { headers: { authorization: `Bearer ${t}=` } },
    "a suffix after the signature": { headers: { authorization: `Bearer ${t}.x` } },
  };
}

describe("a cached token answers as a first sight would", () => {
  it("for every request shape, by default", async () => {
    const warm = authenticator();
    expect(await outcome(warm, variants(token).plain!)).toBe("accepted cached-user");
    for (const [name, request] of Object.entries(variants(token))) {
      const cold = authenticator();
      expect(`${name}: ${await outcome(warm, request)}`).toBe(
        `${name}: ${await outcome(cold, request)}`,
      );
    }
  });

  it("with a token cookie configured, where a header and a cookie together are refused", async () => {
    const options = { cookieName: "session" };
    const warm = authenticator(options);
    const request = {
      headers: { authorization: `Bearer ${token}`, cookie: `session=${token}` },
    };
    expect(await outcome(warm, { headers: { authorization: `Bearer ${token}` } })).toBe(
      "accepted cached-user",
    );
    expect(await outcome(warm, request)).toBe(await outcome(authenticator(options), request));
    expect(await outcome(warm, { headers: { cookie: `session=${token}` } })).toBe(
      "accepted cached-user",
    );
  });

  it("with query tokens allowed, where a header and a query token together are refused", async () => {
    const options = { allowInsecureQueryToken: true };
    const warm = authenticator(options);
    expect(await outcome(warm, { headers: { authorization: `Bearer ${token}` } })).toBe(
      "accepted cached-user",
    );
    const request = {
      headers: { authorization: `Bearer ${token}` },
      url: `/me?access_token=${token}`,
    };
    expect(await outcome(warm, request)).toBe(await outcome(authenticator(options), request));
    expect(await outcome(warm, request)).toBe("InvalidRequestError multiple_token_sources");
  });

  it("refuses a cached token over maxTokenBytes, as it refuses it cold", async () => {
    const verifier = createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      maxTokenBytes: token.length - 1,
    });
    // verify() applies the limit too, so the token never reaches the cache.
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: "token_too_large" });
    const auth = authenticator({ verifier });
    expect(await outcome(auth, variants(token).plain!)).toBe("InvalidTokenError token_too_large");
  });
});

describe("the cache keyed by the signature's tail", () => {
  it("refuses a forged token that shares the cached token's signature", async () => {
    const auth = authenticator();
    expect(await outcome(auth, variants(token).plain!)).toBe("accepted cached-user");
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<
      string,
      unknown
    >;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: "admin" })).toString(
      "base64url",
    );
    const forged = `${header}.${forgedPayload}.${signature}`;
    expect(await outcome(auth, variants(forged).plain!)).toBe(
      "InvalidTokenError signature_invalid",
    );
    // The forgery neither replaced nor evicted the genuine entry.
    const again = auth.authenticate({}, variants(token).plain!, false);
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as Identity).sub).toBe("cached-user");
  });

  it("keeps two verified tokens of one subject apart", async () => {
    const auth = authenticator();
    const other = await issuer.sign({ sub: "cached-user", scope: "read" });
    expect(await outcome(auth, variants(token).plain!)).toBe("accepted cached-user");
    expect(await outcome(auth, variants(other).plain!)).toBe("accepted cached-user");
    const first = auth.authenticate({}, variants(token).plain!, false) as Identity;
    const second = auth.authenticate({}, variants(other).plain!, false) as Identity;
    expect(first.token).toBe(token);
    expect(second.token).toBe(other);
    expect(second.claims.scope).toBe("read");
  });
});
