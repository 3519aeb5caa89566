import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import {
  discoverOAuthServerInfo,
  extractWWWAuthenticateParams,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, MCP_SCOPE } from "../src/app.js";

let issuer: TestIssuer;
let server: Server;
let base: string;
let mcpUrl: URL;

beforeAll(async () => {
  issuer = await createTestIssuer();
  // The public URL is known once the port is: listen first, then build the app on it.
  server = (await import("node:http")).createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mcpUrl = new URL(`${base}/mcp`);
  server.on(
    "request",
    createApp({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience as string,
      publicUrl: base,
    }),
  );
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await issuer.close();
});

function clientWith(token?: string) {
  const transport = new StreamableHTTPClientTransport(mcpUrl, {
    ...(token === undefined
      ? {}
      : { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  });
  return { client: new Client({ name: "meishi-test", version: "1.0.0" }), transport };
}

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "raw", version: "1" },
  },
};

function post(headers: Record<string, string> = {}) {
  return fetch(mcpUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: JSON.stringify(initialize),
  });
}

describe("an MCP client without a token", () => {
  it("gets 401 with the metadata link, and discovers the auth server from it", async () => {
    const res = await post();
    expect(res.status).toBe(401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(res);
    expect(resourceMetadataUrl?.href).toBe(`${base}/.well-known/oauth-protected-resource/mcp`);
    const info = await discoverOAuthServerInfo(mcpUrl, {
      ...(resourceMetadataUrl === undefined ? {} : { resourceMetadataUrl }),
    });
    expect(info.resourceMetadata).toMatchObject({
      resource: `${base}/mcp`,
      authorization_servers: [issuer.issuer],
      scopes_supported: [MCP_SCOPE],
    });
    expect(info.authorizationServerUrl).toBe(issuer.issuer);
    expect(info.authorizationServerMetadata?.issuer).toBe(issuer.issuer);
  });

  it("cannot connect with the SDK's client", async () => {
    const { client, transport } = clientWith();
    await expect(client.connect(transport)).rejects.toMatchObject({ code: 401 });
  });
});

describe("an MCP client with a token", () => {
  it("calls a tool as the token's subject", async () => {
    const token = await issuer.sign({ sub: "00123", scope: MCP_SCOPE });
    const { client, transport } = clientWith(token);
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name).sort()).toEqual(["list_orders", "whoami"]);
      const whoami = await client.callTool({ name: "whoami", arguments: {} });
      expect(whoami.content).toEqual([
        { type: "text", text: JSON.stringify({ sub: "00123", scopes: [MCP_SCOPE] }) },
      ]);
      const orders = await client.callTool({ name: "list_orders", arguments: {} });
      expect(JSON.parse((orders.content as { text: string }[])[0]?.text ?? "[]")).toEqual([
        { id: 1, owner: "00123", item: "名刺 × 100" },
      ]);
    } finally {
      await client.close();
    }
  });

  it("is refused with 403 insufficient_scope without the scope", async () => {
    const token = await issuer.sign({ sub: "00123", scope: "profile" });
    const res = await post({ authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
    expect(extractWWWAuthenticateParams(res)).toMatchObject({
      error: "insufficient_scope",
      scope: MCP_SCOPE,
    });
    expect(await res.json()).toEqual({
      error: "insufficient_scope",
      error_description: "The access token lacks a required scope",
    });
    const { client, transport } = clientWith(token);
    await expect(client.connect(transport)).rejects.toMatchObject({ code: 403 });
  });

  it("is refused with 401 for an expired token", async () => {
    const token = await issuer.sign({ scope: MCP_SCOPE }, { expiresInSec: -60, issuedAtSec: -120 });
    const res = await post({ authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(extractWWWAuthenticateParams(res).error).toBe("invalid_token");
  });
});
