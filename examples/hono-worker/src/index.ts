import { type AuthEnv, jwtAuth, requireRole } from "@meishi/hono";
import { Hono } from "hono";

/** The Worker's settings: `vars` in wrangler.jsonc, or `wrangler secret put` in production. */
export interface Bindings {
  JWKS_URI: string;
  ISSUER: string;
  AUDIENCE: string;
}

const app = new Hono<{ Bindings: Bindings } & AuthEnv>();

// Registered before jwtAuth(), so it answers without a token.
app.get("/health", (c) => c.json({ ok: true }));

// Workers hand the bindings to requests only, so the options are a function of them: meishi
// builds the verifier (and its JWKS cache) on the first request and keeps it for the isolate.
app.use(
  jwtAuth((env: Bindings) => ({
    jwksUri: env.JWKS_URI,
    issuer: env.ISSUER,
    audience: env.AUDIENCE,
  })),
);

app.get("/me", (c) => {
  const auth = c.get("auth");
  return c.json({ sub: auth?.sub, roles: auth?.roles });
});

app.get("/orders", requireRole("standard user"), (c) =>
  c.json({ owner: c.get("auth")?.sub, orders: [{ id: 1, item: "名刺 × 100" }] }),
);

app.get("/admin", requireRole("admin"), (c) => c.json({ users: 42 }));

export default app;
