import type { IncomingMessage } from "node:http";
import { authErrorHandler, type Identity, jwtAuth, requireScope } from "@meishi/express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import express from "express";
import { z } from "zod";

/** Where tokens come from, who they must be for, and where clients reach this server. */
export interface Config {
  jwksUri: string;
  issuer: string;
  audience: string;
  /**
   * The URL clients call this server at, e.g. `https://mcp.example.com`. The MCP endpoint is
   * `<publicUrl>/mcp`, which is also the RFC 9728 `resource` MCP clients ask tokens for.
   */
  publicUrl: string;
}

/** The scope a token needs to use the tools. */
export const MCP_SCOPE = "orders:read";

const ORDERS = [
  { id: 1, owner: "00123", item: "名刺 × 100" },
  { id: 2, owner: "00124", item: "名刺入れ" },
];

/** One MCP server per request (stateless Streamable HTTP): its tools see that request's caller. */
function mcpServerFor(identity: Identity): McpServer {
  const server = new McpServer({ name: "meishi-orders", version: "1.0.0" });
  server.registerTool(
    "whoami",
    {
      description: "Who the access token says you are",
      inputSchema: {},
    },
    async () => ({
      content: [
        { type: "text", text: JSON.stringify({ sub: identity.sub, scopes: identity.scopes }) },
      ],
    }),
  );
  server.registerTool(
    "list_orders",
    {
      description: "Your orders",
      inputSchema: { limit: z.number().int().min(1).max(50).optional() },
    },
    async ({ limit }) => ({
      content: [
        {
          type: "text",
          text: JSON.stringify(
            ORDERS.filter((order) => order.owner === identity.sub).slice(0, limit ?? 50),
          ),
        },
      ],
    }),
  );
  return server;
}

/**
 * The MCP server app. meishi answers everything auth: `GET /.well-known/oauth-protected-resource/mcp`
 * (RFC 9728, where MCP clients find the authorization server), 401 with `resource_metadata` in
 * the challenge without a valid token, 403 `insufficient_scope` without `orders:read`.
 */
export function createApp(config: Config): express.Express {
  const { publicUrl, ...verification } = config;
  const app = express();
  app.disable("x-powered-by");

  app.use(
    jwtAuth({
      ...verification,
      resourceMetadata: {
        resource: `${publicUrl.replace(/\/$/, "")}/mcp`,
        authorizationServers: [config.issuer],
        scopesSupported: [MCP_SCOPE],
        resourceName: "meishi orders (MCP)",
      },
    }),
  );

  app.post(
    "/mcp",
    requireScope(MCP_SCOPE),
    express.json({ limit: "1mb" }),
    async (req, res, next) => {
      try {
        const server = mcpServerFor(req.auth as Identity);
        // Stateless (no sessionIdGenerator): a fresh server and transport per request.
        const transport = new StreamableHTTPServerTransport({});
        res.on("close", () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        // The tools read the caller from meishi's identity, not from the SDK's `authInfo`.
        await transport.handleRequest(req as IncomingMessage, res, req.body);
      } catch (error) {
        next(error);
      }
    },
  );

  // Stateless servers have no stream to resume and no session to end (MCP spec, Streamable HTTP).
  app.all("/mcp", requireScope(MCP_SCOPE), (_req, res) => {
    res
      .status(405)
      .set("Allow", "POST")
      .json({
        jsonrpc: "2.0",
        error: { code: -32000, message: "Method not allowed." },
        id: null,
      });
  });

  app.use(authErrorHandler());
  return app;
}
