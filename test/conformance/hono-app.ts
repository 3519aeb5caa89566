import { createVerifier, type VerifierOptions } from "@meishi/core";
import {
  type AuthEnv,
  authErrorHandler,
  jwtAuth,
  requireAcr,
  requireAuthTime,
  requireRole,
  requireScope,
} from "@meishi/hono";
import { type Context, Hono } from "hono";
import { authBody, type StartOptions } from "./harness.js";

/**
 * The conformance routes as a Hono app. Runtime-neutral (Hono and meishi only), so the same app
 * runs on Node here and inside workerd, Bun and Deno in @meishi/hono's runtime tests.
 */
export function buildHonoApp(
  options: VerifierOptions,
  { errorHandler = true }: StartOptions = {},
): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const auth = jwtAuth(options);
  const optionalAuth = jwtAuth({ verifier: createVerifier(options), optional: true });
  const send = (c: Context<AuthEnv>) => c.json(authBody(c.get("auth")));
  app.get("/me", auth, send);
  app.get("/orders", auth, requireRole("standard user"), send);
  app.get("/admin", auth, requireRole("admin"), send);
  app.get("/scoped", auth, requireScope("orders:read"), send);
  app.get("/public", optionalAuth, send);
  app.get("/guarded", requireRole("admin"), send);
  app.get("/public-admin", optionalAuth, requireRole("admin"), send);
  app.get("/acr", auth, requireAcr("phr"), send);
  app.get("/recent", auth, requireAuthTime({ maxAgeSec: 300 }), send);
  const area = new Hono<AuthEnv>();
  area.use(auth, requireRole("admin"));
  area.get("/admin", send);
  app.route("/area", area);
  if (errorHandler) app.onError(authErrorHandler());
  return app;
}
