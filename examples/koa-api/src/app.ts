import Router from "@koa/router";
import { authErrorHandler, jwtAuth, requireRole, type VerifierOptions } from "@meishi/koa";
import Koa from "koa";

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

/** The API: `/health` is public, the other routes need a valid token. */
export function createApp(config: Config): Koa {
  const app = new Koa();
  const auth = jwtAuth(authOptions(config));
  const router = new Router();

  router.get("/health", (ctx) => {
    ctx.body = { ok: true };
  });

  // jwtAuth answers the RFC 9728 metadata itself when the request reaches it.
  router.get("/.well-known/oauth-protected-resource", auth);

  router.get("/me", auth, (ctx) => {
    ctx.body = { sub: ctx.state.auth?.sub, roles: ctx.state.auth?.roles };
  });

  router.get("/orders", auth, requireRole("standard user"), (ctx) => {
    ctx.body = { owner: ctx.state.auth?.sub, orders: [{ id: 1, item: "名刺 × 100" }] };
  });

  router.get("/admin", auth, requireRole("admin"), (ctx) => {
    ctx.body = { users: 42 };
  });

  // Optional, and first: renders 401/403/503 as RFC 6750 JSON. Without it Koa still sends the
  // right status and WWW-Authenticate header.
  app.use(authErrorHandler());
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
