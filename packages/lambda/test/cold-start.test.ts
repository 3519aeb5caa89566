import { ConfigurationError, createRemoteKeySource, createVerifier } from "@meishi/core";
import { createHttpApiAuthorizer, createTokenAuthorizer, readJwksSnapshot } from "@meishi/lambda";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { httpApiEvent, tokenEvent } from "./events.js";

let issuer: TestIssuer;
let snapshotText: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  snapshotText = await (await fetch(issuer.jwksUri)).text();
});
afterAll(() => issuer.close());
beforeEach(() => issuer.resetRequestCounts());

const claims = () => ({ issuer: issuer.issuer, audience: issuer.audience });
const common = () => ({ ...claims(), logger: false as const });

describe("key cache across invocations", () => {
  it("fetches the JWKS once for 50 simultaneous cold events", async () => {
    const handler = createHttpApiAuthorizer({ ...common(), jwksUri: issuer.jwksUri });
    const authorization = `Bearer ${await issuer.sign({ sub: "00123" })}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => handler(httpApiEvent({ headers: { authorization } }))),
    );
    expect(results.every((result) => result.isAuthorized)).toBe(true);
    expect(issuer.requests.jwks).toBe(1);
  });

  it("does not fetch again on a warm invocation", async () => {
    const handler = createTokenAuthorizer({ ...common(), jwksUri: issuer.jwksUri });
    await handler(tokenEvent(`Bearer ${await issuer.sign({ sub: "a" })}`));
    await handler(tokenEvent(`Bearer ${await issuer.sign({ sub: "b" })}`));
    expect(issuer.requests.jwks).toBe(1);
  });
});

describe("JWKS snapshot", () => {
  it("verifies with a snapshot from an environment variable and never fetches (offline)", async () => {
    const handler = createTokenAuthorizer({
      ...common(),
      jwksUri: issuer.jwksUri,
      jwksSnapshot: snapshotText,
      offline: true,
    });
    const result = await handler(tokenEvent(`Bearer ${await issuer.sign({ sub: "00123" })}`));
    expect(result.principalId).toBe("00123");
    expect(issuer.requests.total).toBe(0);
  });

  it("takes a bundled JWKS object too", async () => {
    const handler = createHttpApiAuthorizer({
      ...common(),
      jwksSnapshot: JSON.parse(snapshotText),
      offline: true,
    });
    const authorization = `Bearer ${await issuer.sign({ sub: "00123" })}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => handler(httpApiEvent({ headers: { authorization } }))),
    );
    expect(results.every((result) => result.isAuthorized)).toBe(true);
    expect(issuer.requests.total).toBe(0);
  });

  it("treats an empty environment variable as no snapshot", () => {
    expect(readJwksSnapshot("")).toBeUndefined();
    expect(readJwksSnapshot(undefined)).toBeUndefined();
  });

  it("refuses a snapshot that is not a JWKS at start-up", () => {
    expect(() => readJwksSnapshot("{not json")).toThrow(ConfigurationError);
    expect(() => readJwksSnapshot('{"keys":[]}')).toThrow(ConfigurationError);
    expect(() =>
      createTokenAuthorizer({ ...common(), jwksSnapshot: '{"hello":1}', offline: true }),
    ).toThrow(ConfigurationError);
  });

  it("refuses offline without a snapshot", () => {
    expect(() =>
      createTokenAuthorizer({ ...common(), jwksUri: issuer.jwksUri, offline: true }),
    ).toThrow(/offline: true needs a jwksSnapshot/);
  });

  it("refuses a plain JWKS for the remote source: keys of unknown age are not fresh", () => {
    expect(() =>
      createTokenAuthorizer({ ...common(), jwksUri: issuer.jwksUri, jwksSnapshot: snapshotText }),
    ).toThrow(/offline: true/);
  });

  it("seeds the remote source from a saved snapshot: 50 cold events, no fetch", async () => {
    const source = createRemoteKeySource({ jwksUri: issuer.jwksUri });
    await source.ready();
    const saved = JSON.stringify(source.snapshot());
    issuer.resetRequestCounts();
    const handler = createHttpApiAuthorizer({
      ...common(),
      jwksUri: issuer.jwksUri,
      jwksSnapshot: saved,
    });
    const authorization = `Bearer ${await issuer.sign({ sub: "00123" })}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => handler(httpApiEvent({ headers: { authorization } }))),
    );
    expect(results.every((result) => result.isAuthorized)).toBe(true);
    expect(issuer.requests.total).toBe(0);
  });

  it("needs neither the discovery document nor the JWKS with a snapshot and an issuer alone", async () => {
    const source = createRemoteKeySource({ jwksUri: issuer.jwksUri });
    await source.ready();
    const saved = JSON.stringify(source.snapshot());
    issuer.resetRequestCounts();
    const handler = createTokenAuthorizer({ ...common(), jwksSnapshot: saved });
    const result = await handler(tokenEvent(`Bearer ${await issuer.sign({ sub: "00123" })}`));
    expect(result.principalId).toBe("00123");
    expect(issuer.requests.total).toBe(0);
  });

  it("fetches once when the saved snapshot is past its expiresAt", async () => {
    const source = createRemoteKeySource({ jwksUri: issuer.jwksUri });
    await source.ready();
    const old = source.snapshot()!;
    const hourAgo = Date.now() - 3_600_000;
    issuer.resetRequestCounts();
    const handler = createTokenAuthorizer({
      ...common(),
      jwksUri: issuer.jwksUri,
      jwksSnapshot: { ...old, fetchedAt: hourAgo, expiresAt: hourAgo + 600_000 },
    });
    await handler(tokenEvent(`Bearer ${await issuer.sign({ sub: "00123" })}`));
    expect(issuer.requests.jwks).toBe(1);
  });

  it("refuses a snapshot next to a shared verifier", () => {
    const verifier = createVerifier({ ...claims(), jwksUri: issuer.jwksUri });
    expect(() => createTokenAuthorizer({ verifier, jwksSnapshot: snapshotText })).toThrow(
      ConfigurationError,
    );
  });

  it("shares a verifier's key cache between two authorizers", async () => {
    const verifier = createVerifier({ ...claims(), jwksUri: issuer.jwksUri });
    const token = createTokenAuthorizer({ verifier });
    const http = createHttpApiAuthorizer({ verifier });
    const jwt = await issuer.sign({ sub: "00123" });
    await token(tokenEvent(`Bearer ${jwt}`));
    await http(httpApiEvent({ headers: { authorization: `Bearer ${jwt}` } }));
    expect(issuer.requests.jwks).toBe(1);
  });
});
