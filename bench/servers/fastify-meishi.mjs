// @meishi/fastify as its README shows: register(meishi, { jwksUri, issuer, audience }) and
// { onRequest: app.authenticate } on the route; request.auth.
import meishi from "@meishi/fastify";
import Fastify from "fastify";
import { announce, benchEnv } from "./_common.mjs";

const env = benchEnv();
// The *-meishi-nocache variants measure a token seen for the first time on every request.
const cacheOption =
  process.env.MEISHI_VERIFIED_CACHE === "off"
    ? { verifiedTokenCache: /** @type {const} */ (false) }
    : {};
const app = Fastify();
await app.register(meishi, {
  jwksUri: env.jwksUri,
  issuer: env.issuer,
  audience: env.audience,
  ...cacheOption,
});
app.get("/me", { onRequest: app.authenticate }, async (request) => ({ sub: request.auth?.sub }));
await app.listen({ port: env.port, host: "127.0.0.1" });
announce(app.server.address().port, () => app.close());
