// Koa 3 with no authentication: the ceiling for the Koa rows.
import { createServer } from "node:http";
import Koa from "koa";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const app = new Koa();
app.use((ctx) => {
  if (ctx.method === "GET" && ctx.path === "/me") ctx.body = { sub: "anonymous" };
});
const server = createServer(app.callback());
announce(await listen(server, env.port), () => closeServer(server));
