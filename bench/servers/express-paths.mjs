// One Express 5 process serving the three variants bench:cpu compares, so their differences are
// not differences between processes: two identical servers in two processes measured up to
// 2.5 µs/request apart here (memory placement), more than the effect being measured.
//   GET /bare  no middleware
//   GET /noop  a middleware that only attaches a value, as any auth middleware must
//   GET /me    jwtAuth() from @meishi/express, as its README shows (verified-token cache on)
// Routes are matched in this order, so /me also pays for skipping the other two.
import { createServer } from "node:http";
import { authErrorHandler, jwtAuth } from "@meishi/express";
import express from "express";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const anonymous = Object.freeze({ sub: "anonymous" });
const app = express();
const respond = (req, res) => {
  res.json({ sub: req.auth?.sub ?? "anonymous" });
};
app.get("/bare", respond);
// Named: bench:own-cost finds it in the CPU profile.
function noopMiddleware(req, _res, next) {
  req.auth = anonymous;
  next();
}
app.get("/noop", noopMiddleware, respond);
app.get(
  "/me",
  jwtAuth({ jwksUri: env.jwksUri, issuer: env.issuer, audience: env.audience }),
  respond,
);
app.use(authErrorHandler());
const server = createServer(app);
announce(await listen(server, env.port), () => closeServer(server));
