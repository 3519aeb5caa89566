// koa-jwt 4 + jwks-rsa's koaJwtSecret, as koa-jwt's README shows for JWKS (cache on), with the
// same rate limiting as the express-jwt row, algorithms pinned to RS256, issuer and audience set.
import { createServer } from "node:http";
import jwksRsa from "jwks-rsa";
import Koa from "koa";
import jwt from "koa-jwt";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const app = new Koa();
app.use(
  jwt({
    secret: jwksRsa.koaJwtSecret({
      jwksUri: env.jwksUri,
      cache: true,
      rateLimit: true,
      jwksRequestsPerMinute: 10,
    }),
    audience: env.audience,
    issuer: env.issuer,
    algorithms: ["RS256"],
  }),
);
app.use((ctx) => {
  if (ctx.method === "GET" && ctx.path === "/me") ctx.body = { sub: ctx.state.user?.sub };
});
const server = createServer(app.callback());
announce(await listen(server, env.port), () => closeServer(server));
