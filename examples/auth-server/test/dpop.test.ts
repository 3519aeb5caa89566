import { createDpopClient } from "@meishi/testing";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { TokenResponse } from "../src/index.js";
import { login, omochi, postJson, sharedServer } from "./helpers.js";

describe("DPoP-bound tokens (RFC 9449 §5)", () => {
  const shared = sharedServer();

  async function dpopLogin(url: string, client: Awaited<ReturnType<typeof createDpopClient>>) {
    const proof = await client.proof("POST", `${url}/login`);
    const res = await postJson(`${url}/login`, omochi, { dpop: proof });
    expect(res.status).toBe(200);
    return (await res.json()) as TokenResponse;
  }

  it("binds the access token to the proof's key when /login carries a proof", async () => {
    const { url } = shared();
    const client = await createDpopClient();
    const tokens = await dpopLogin(url, client);
    expect(tokens.token_type).toBe("DPoP");
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: client.jkt });
    const plain = await login(url, omochi.username, omochi.password);
    expect(plain.token_type).toBe("Bearer");
    expect(decodeJwt(plain.access_token).cnf).toBeUndefined();
  });

  it("refreshes a bound login only with a proof from the same key", async () => {
    const { url } = shared();
    const client = await createDpopClient();
    const thief = await createDpopClient();
    const tokens = await dpopLogin(url, client);
    const refresh = async (by: typeof client | undefined) =>
      postJson(
        `${url}/token/refresh`,
        { refresh_token: tokens.refresh_token },
        by === undefined ? {} : { dpop: await by.proof("POST", `${url}/token/refresh`) },
      );
    for (const by of [undefined, thief]) {
      const res = await refresh(by);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: "invalid_grant",
        error_description: "refresh token is bound to another DPoP key",
      });
    }
    // The thief's attempts did not burn the holder's token.
    const res = await refresh(client);
    expect(res.status).toBe(200);
    const next = (await res.json()) as TokenResponse;
    expect(next.token_type).toBe("DPoP");
    expect(decodeJwt(next.access_token).cnf).toEqual({ jkt: client.jkt });
  });

  it("refuses a bad or replayed proof with 400 invalid_dpop_proof", async () => {
    const { url } = shared();
    const client = await createDpopClient();
    const wrongUrl = await client.proof("POST", `${url}/logout`);
    const res = await postJson(`${url}/login`, omochi, { dpop: wrongUrl });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "invalid_dpop_proof",
      error_description: "The DPoP proof is for another URL",
    });
    const proof = await client.proof("POST", `${url}/login`);
    expect((await postJson(`${url}/login`, omochi, { dpop: proof })).status).toBe(200);
    const replay = await postJson(`${url}/login`, omochi, { dpop: proof });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({
      error: "invalid_dpop_proof",
      error_description: "the DPoP proof was already used",
    });
  });

  it("advertises its proof algorithms in discovery", async () => {
    const { url } = shared();
    const res = await fetch(`${url}/.well-known/openid-configuration`);
    expect(await res.json()).toMatchObject({
      dpop_signing_alg_values_supported: expect.arrayContaining(["ES256", "EdDSA", "RS256"]),
    });
  });
});
