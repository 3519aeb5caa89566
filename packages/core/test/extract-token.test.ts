import { describe, expect, it } from "vitest";
import {
  extractToken,
  findToken,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
} from "../src/index.node.js";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

function refusal(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a refusal");
}

describe("findToken (RFC 6750 §2.1)", () => {
  it("reads a bearer token with any casing of the scheme", () => {
    for (const scheme of ["Bearer", "bearer", "BEARER", "bEaReR"]) {
      expect(findToken({ headers: { authorization: `${scheme} ${TOKEN}` } })).toBe(TOKEN);
    }
  });

  it("tolerates surrounding whitespace but not an empty credential", () => {
    expect(findToken({ headers: { authorization: `  Bearer   ${TOKEN}  ` } })).toBe(TOKEN);
    const error = refusal(() => findToken({ headers: { authorization: "Bearer " } }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).status).toBe(400);
    expect(refusal(() => findToken({ headers: { authorization: "Bearer" } }))).toBeInstanceOf(
      InvalidRequestError,
    );
  });

  it("returns undefined for no header and for another scheme", () => {
    expect(findToken({ headers: {} })).toBeUndefined();
    expect(findToken({ headers: { authorization: "Basic dXNlcjpwYXNz" } })).toBeUndefined();
    expect(findToken({ headers: { authorization: "BearerX abc" } })).toBeUndefined();
    expect(findToken({ headers: { authorization: "" } })).toBeUndefined();
  });

  it("refuses two credentials, two headers and comma-folded duplicates with invalid_request", () => {
    for (const headers of [
      { authorization: `Bearer ${TOKEN} ${TOKEN}` },
      { authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] },
      { authorization: `Bearer ${TOKEN}, Bearer ${TOKEN}` },
    ]) {
      const error = refusal(() => findToken({ headers }));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).reason).toBe("multiple_credentials");
    }
  });

  it("accepts a single-element header array", () => {
    expect(findToken({ headers: { authorization: [`Bearer ${TOKEN}`] } })).toBe(TOKEN);
  });

  it("refuses tokens over the size limit, 16 KiB by default", () => {
    const big = "a".repeat(16 * 1024 + 1);
    const error = refusal(() => findToken({ headers: { authorization: `Bearer ${big}` } }));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect((error as InvalidTokenError).reason).toBe("token_too_large");
    expect(
      findToken({ headers: { authorization: `Bearer ${"a".repeat(16 * 1024)}` } }),
    ).toHaveLength(16 * 1024);
    expect(
      refusal(() =>
        findToken({ headers: { authorization: `Bearer ${TOKEN}` } }, { maxTokenBytes: 10 }),
      ),
    ).toBeInstanceOf(InvalidTokenError);
  });

  it("refuses characters outside the b64token grammar", () => {
    for (const bad of ["a\u00e9b", "a<b", 'a"b', "a=b"]) {
      const error = refusal(() => findToken({ headers: { authorization: `Bearer ${bad}` } }));
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect((error as InvalidTokenError).reason).toBe("malformed_token");
    }
  });

  it("ignores query-string tokens unless allowed by name", () => {
    const request = { headers: {}, url: `/orders?access_token=${TOKEN}` };
    expect(findToken(request)).toBeUndefined();
    expect(findToken(request, { allowInsecureQueryToken: true })).toBe(TOKEN);
    expect(
      refusal(() =>
        findToken(
          { headers: {}, url: `/o?access_token=${TOKEN}&access_token=${TOKEN}` },
          { allowInsecureQueryToken: true },
        ),
      ),
    ).toBeInstanceOf(InvalidRequestError);
  });

  it("reads a cookie only when configured", () => {
    const request = { headers: { cookie: `theme=dark; session=${TOKEN}` } };
    expect(findToken(request)).toBeUndefined();
    expect(findToken(request, { cookieName: "session" })).toBe(TOKEN);
    expect(
      findToken({ headers: { cookie: `session="${TOKEN}"` } }, { cookieName: "session" }),
    ).toBe(TOKEN);
    expect(
      findToken({ headers: { cookie: "session=" } }, { cookieName: "session" }),
    ).toBeUndefined();
  });

  it("refuses a token sent in two places (RFC 6750 §2); an ambient cookie yields to the header", () => {
    expect(
      findToken(
        { headers: { authorization: `Bearer ${TOKEN}`, cookie: `session=${TOKEN}` } },
        { cookieName: "session" },
      ),
    ).toBe(TOKEN);
    const error = refusal(() =>
      findToken(
        { headers: { authorization: `Bearer ${TOKEN}` }, url: `/x?access_token=${TOKEN}` },
        { allowInsecureQueryToken: true },
      ),
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).reason).toBe("multiple_token_sources");
  });

  it("reads a Fetch API Headers object", () => {
    expect(findToken({ headers: new Headers({ Authorization: `Bearer ${TOKEN}` }) })).toBe(TOKEN);
  });
});

describe("extractToken", () => {
  it("answers a missing token with a bare challenge and no error code", () => {
    const error = refusal(() => extractToken({ headers: {} }, { realm: "orders" }));
    expect(error).toBeInstanceOf(MissingTokenError);
    expect((error as MissingTokenError).headers["WWW-Authenticate"]).toBe('Bearer realm="orders"');
    expect((error as MissingTokenError).status).toBe(401);
  });
});

describe("duplicate Authorization headers", () => {
  it("refuses a second Authorization header found in Node's rawHeaders", () => {
    const request = {
      headers: { authorization: `Bearer ${TOKEN}` },
      rawHeaders: [
        "Host",
        "x",
        "Authorization",
        `Bearer ${TOKEN}`,
        "authorization",
        "Bearer other",
      ],
    };
    const error = refusal(() => findToken(request));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).reason).toBe("multiple_credentials");
    expect(findToken({ ...request, rawHeaders: ["Authorization", `Bearer ${TOKEN}`] })).toBe(TOKEN);
  });
});
