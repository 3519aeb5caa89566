import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import express, { type RequestHandler } from "express";
import express4 from "express4";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authErrorHandler, jwtAuth, requireRole } from "../src/index.js";

// Express matches `app.use(path)` and routes with the same case and strict settings (one Layer
// type for both), so a path that reaches a route also passes the middleware mounted above it.
// These pin that for the forms users write, with case, trailing-slash, encoding and double-slash
// variants of /admin/users.

let issuer: TestIssuer;
let auth: RequestHandler;

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = jwtAuth({ jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience });
});
afterAll(() => issuer.close());

const reached: RequestHandler = (_req, res) => {
  res.json({ reached: true });
};

const VARIANTS = [
  "/admin/users",
  "/ADMIN/users",
  "/Admin/Users",
  "/admin/users/",
  "/ADMIN/USERS/",
  "/%41dmin/users",
  "/admin/%75sers",
  "//admin/users",
  "/admin//users",
];

const UPPER = ["/ADMIN/users", "/Admin/Users", "/ADMIN/USERS/"];

type Build = (app: express.Express, Router: typeof express.Router) => void;

const FORMS: [string, Build][] = [
  [
    "app.use('/admin', jwtAuth(), requireRole())",
    (app) => {
      app.use("/admin", auth, requireRole("admin"));
      app.get("/admin/users", reached);
    },
  ],
  [
    "router.use(jwtAuth()) in a router mounted at /admin",
    (app, Router) => {
      const router = Router();
      router.use(auth, requireRole("admin"));
      router.get("/users", reached);
      app.use("/admin", router);
    },
  ],
  [
    "a case-sensitive, strict router mounted at /admin on a case-blind app",
    (app, Router) => {
      const router = Router({ caseSensitive: true, strict: true });
      router.use(auth, requireRole("admin"));
      router.get("/users", reached);
      app.use("/admin", router);
    },
  ],
  [
    "router.use('/admin', jwtAuth()) in a nested router",
    (app, Router) => {
      const inner = Router();
      inner.get("/users", reached);
      const outer = Router();
      outer.use("/admin", auth, requireRole("admin"));
      outer.use("/admin", inner);
      app.use(outer);
    },
  ],
  [
    "app-level use with 'case sensitive routing' and 'strict routing'",
    (app) => {
      app.set("case sensitive routing", true);
      app.set("strict routing", true);
      app.use("/admin", auth, requireRole("admin"));
      app.get("/admin/users", reached);
    },
  ],
];

const EXPRESSES: [string, typeof express][] = [
  ["Express 5", express],
  ["Express 4", express4],
];

describe.each(EXPRESSES)("%s", (_version, framework) => {
  it.each(FORMS)(
    "%s never reaches the handler without a token, in any case or encoding",
    async (_name, build) => {
      const app = framework();
      build(app, framework.Router);
      const caseSensitiveApp = app.get("case sensitive routing") === true;
      app.use(authErrorHandler());
      for (const path of VARIANTS) {
        const res = await request(app).get(path);
        expect({ path, reached: res.body?.reached === true }).toEqual({ path, reached: false });
        // Express matches paths before decoding them, so `%41` and a leading `//` find nothing.
        const notFound = ["/%41dmin/users", "//admin/users", ...(caseSensitiveApp ? UPPER : [])];
        expect({ path, status: res.status }).toEqual({
          path,
          status: notFound.includes(path) ? 404 : 401,
        });
      }
      const admin = await request(app)
        .get("/admin/users")
        .auth(await issuer.sign({ role: "admin" }), { type: "bearer" });
      expect(admin.body).toEqual({ reached: true });
    },
  );
});
