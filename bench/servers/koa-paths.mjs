// One Koa 3 process serving the three variants bench:cpu compares (see express-paths.mjs):
// /bare, /noop (a middleware that only attaches a value) and /me (jwtAuth() from @meishi/koa).
// Every path passes the same dispatching middleware, so it cancels out of the differences.
import { createServer } from "node:http";
import { jwtAuth } from "@meishi/koa";
import Koa from "koa";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const anonymous = Object.freeze({ sub: "anonymous" });
const meishi = jwtAuth({ jwksUri: env.jwksUri, issuer: env.issuer, audience: env.audience });
// Named: bench:own-cost finds it in the CPU profile.
function noopMiddleware(ctx, next) {
  ctx.state.auth = anonymous;
  return next();
}
const app = new Koa();
app.use((ctx, next) => {
  if (ctx.path === "/me") return meishi(ctx, next);
  if (ctx.path === "/noop") return noopMiddleware(ctx, next);
  return next();
});
app.use((ctx) => {
  ctx.body = { sub: ctx.state.auth?.sub ?? "anonymous" };
});
const server = createServer(app.callback());
announce(await listen(server, env.port), () => closeServer(server));
