import { authErrorHandler, jwtAuth, requireRole } from "@meishi/express";
import express from "express";

/** Where tokens come from and who they must be for. */
export interface Config {
  jwksUri: string;
  issuer: string;
  audience: string;
}

/** The API: `/health` is public, everything after `jwtAuth()` needs a valid token. */
export function createApp(config: Config): express.Express {
  const app = express();

  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });

  app.use(jwtAuth(config));

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
