import meishi, { authErrorHandler, type VerifierOptions } from "@meishi/fastify";
import Fastify, { type FastifyInstance } from "fastify";

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

/** The API: every route needs a valid token except `/health`, which opts out. */
export async function createApp(config: Config): Promise<FastifyInstance> {
  const app = Fastify({ logger: process.env.NODE_ENV !== "test" });
  // Also serves GET /.well-known/oauth-protected-resource, public.
  await app.register(meishi, { ...authOptions(config), protectAllRoutes: true });
  // Optional: renders 401/403/503 as RFC 6750 JSON. Without it Fastify still sends the right
  // status and WWW-Authenticate header.
  app.setErrorHandler(authErrorHandler);

  app.get("/health", { config: { meishi: { public: true } } }, async () => ({ ok: true }));

  app.get("/me", async (request) => ({ sub: request.auth?.sub, roles: request.auth?.roles }));

  app.get("/orders", { onRequest: app.requireRole("standard user") }, async (request) => ({
    owner: request.auth?.sub,
    orders: [{ id: 1, item: "名刺 × 100" }],
  }));

  app.get("/admin", { onRequest: app.requireRole("admin") }, async () => ({ users: 42 }));

  return app;
}
