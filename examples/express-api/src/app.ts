import { authErrorHandler, jwtAuth, requireRole, type VerifierOptions } from "@meishi/express";
import express from "express";

/** Where tokens come from and who they must be for. */
export interface Config {
  jwksUri: string;
  issuer: string;
  audience: string;
  /**
   * The URL clients call this API at, e.g. `https://api.example.com`: the RFC 9728 `resource`
   * and the origin DPoP proofs name in `htu`. Never read from the request.
   */
  publicUrl: string;
  /**
   * Revoked tokens to refuse, e.g. `createRedisRevocationList()` from `@meishi/redis`, so a
   * logout or an admin's "revoke everywhere" at the auth server reaches this API in milliseconds.
   */
  revocation?: NonNullable<VerifierOptions["revocation"]>;
}

/**
 * meishi's options for this API: DPoP in `allowed` mode (Bearer clients keep working, while a
 * DPoP-bound card only passes with its holder's proof) and the protected-resource metadata.
 */
function authOptions(config: Config) {
  const { publicUrl, ...verification } = config;
  return {
    ...verification,
    dpop: { mode: "allowed" as const },
    resourceMetadata: { resource: publicUrl, authorizationServers: [config.issuer] },
  };
}

/** The API: `/health` is public, everything after `jwtAuth()` needs a valid token. */
export function createApp(config: Config): express.Express {
  const app = express();

  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });

  // Also answers GET /.well-known/oauth-protected-resource, before any token is needed.
  app.use(jwtAuth(authOptions(config)));

  app.get("/me", (req, res) => {
    res.json({ sub: req.auth?.sub, roles: req.auth?.roles });
  });

  app.get("/orders", requireRole("standard user"), (req, res) => {
    res.json({ owner: req.auth?.sub, orders: [{ id: 1, item: "名刺 × 100" }] });
  });

  app.get("/admin", requireRole("admin"), (_req, res) => {
    res.json({ users: 42 });
  });

  // Optional: renders 401/403/503 as RFC 6750 JSON. Without it Express still sends the right
  // status and WWW-Authenticate header.
  app.use(authErrorHandler());
  return app;
}
