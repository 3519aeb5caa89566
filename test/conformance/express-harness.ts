import { createVerifier } from "@meishi/core";
import {
  authErrorHandler,
  jwtAuth,
  requireAcr,
  requireAuthTime,
  requireRole,
  requireScope,
} from "@meishi/express";
import express, { type Request, type Response } from "express";
import request from "supertest";
import { authBody, type Harness, parseBody, pickHeaders } from "./harness.js";

export const expressHarness: Harness = {
  name: "express",
  async start(options, { errorHandler = true } = {}) {
    const app = express();
    app.set("env", "test");
    const auth = jwtAuth(options);
    const optionalAuth = jwtAuth({ verifier: createVerifier(options), optional: true });
    const send = (req: Request, res: Response) => {
      res.json(authBody(req.auth));
    };
    app.get("/me", auth, send);
    app.get("/orders", auth, requireRole("standard user"), send);
    app.get("/admin", auth, requireRole("admin"), send);
    app.get("/scoped", auth, requireScope("orders:read"), send);
    app.get("/public", optionalAuth, send);
    app.get("/guarded", requireRole("admin"), send);
    app.get("/public-admin", optionalAuth, requireRole("admin"), send);
    app.get("/acr", auth, requireAcr("phr"), send);
    app.get("/recent", auth, requireAuthTime({ maxAgeSec: 300 }), send);
    const area = express.Router();
    area.use(auth, requireRole("admin"));
    area.get("/admin", send);
    app.use("/area", area);
    if (errorHandler) app.use(authErrorHandler());
    const server = app.listen(0, "127.0.0.1");
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
