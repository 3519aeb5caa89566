// Koa 3 with one middleware that only attaches a value and awaits next: what the framework
// charges for any middleware (see express-noop.mjs).
import { createServer } from "node:http";
import Koa from "koa";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const identity = Object.freeze({ sub: "anonymous" });
const app = new Koa();
app.use((ctx, next) => {
  ctx.state.auth = identity;
  return next();
});
app.use((ctx) => {
  if (ctx.method === "GET" && ctx.path === "/me") ctx.body = { sub: ctx.state.auth?.sub };
});
const server = createServer(app.callback());
announce(await listen(server, env.port), () => closeServer(server));
