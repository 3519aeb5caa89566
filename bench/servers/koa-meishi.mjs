// @meishi/koa as its README shows: jwtAuth({ jwksUri, issuer, audience }), ctx.state.auth.
import { createServer } from "node:http";
import { jwtAuth } from "@meishi/koa";
import Koa from "koa";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
// The *-meishi-nocache variants measure a token seen for the first time on every request.
const cacheOption =
  process.env.MEISHI_VERIFIED_CACHE === "off"
    ? { verifiedTokenCache: /** @type {const} */ (false) }
    : {};
const app = new Koa();
app.use(
  jwtAuth({ jwksUri: env.jwksUri, issuer: env.issuer, audience: env.audience, ...cacheOption }),
);
app.use((ctx) => {
  if (ctx.method === "GET" && ctx.path === "/me") ctx.body = { sub: ctx.state.auth?.sub };
});
const server = createServer(app.callback());
announce(await listen(server, env.port), () => closeServer(server));
