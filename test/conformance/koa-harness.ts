import { createServer } from "node:http";
import Router from "@koa/router";
import { createVerifier } from "@meishi/core";
import {
  authErrorHandler,
  jwtAuth,
  requireAcr,
  requireAuthTime,
  requireRole,
  requireScope,
} from "@meishi/koa";
import Koa, { type Context } from "koa";
import request from "supertest";
import { authBody, type Harness, parseBody, pickHeaders } from "./harness.js";

export const koaHarness: Harness = {
  name: "koa",
  async start(options, { errorHandler = true } = {}) {
    const app = new Koa();
    app.silent = true;
    const router = new Router();
    const auth = jwtAuth(options);
    const optionalAuth = jwtAuth({ verifier: createVerifier(options), optional: true });
    const send = (ctx: Context) => {
      ctx.body = authBody(ctx.state.auth);
    };
    router.get("/me", auth, send);
    router.get("/orders", auth, requireRole("standard user"), send);
    router.get("/admin", auth, requireRole("admin"), send);
    router.get("/scoped", auth, requireScope("orders:read"), send);
    router.get("/public", optionalAuth, send);
    router.get("/guarded", requireRole("admin"), send);
    router.get("/public-admin", optionalAuth, requireRole("admin"), send);
    router.get("/acr", auth, requireAcr("phr"), send);
    router.get("/recent", auth, requireAuthTime({ maxAgeSec: 300 }), send);
    // The safe form under a prefix: middleware on the route, not in a prefixed router.use()
    // (which @koa/router 15 matches case-sensitively; meishi refuses it).
    // A child router nested under a mount path (the prefixed form is pinned in @meishi/koa's tests).
    const area = new Router();
    area.get("/admin", auth, requireRole("admin"), send);
    router.use("/area", area.routes());
    if (errorHandler) app.use(authErrorHandler());
    app.use(router.routes()).use(router.allowedMethods());
    const server = createServer(app.callback()).listen(0, "127.0.0.1");
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    return {
      async request(path, headers = {}) {
        const res = await request(server).get(path).set(headers).buffer(true);
        const received = pickHeaders((name) => res.headers[name]);
        return {
          status: res.status,
          headers: received,
          body: parseBody(res.text, received["content-type"]),
        };
      },
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  },
};
