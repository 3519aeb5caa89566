// fastify-jwt-jwks 3 as its README shows: register with jwksUrl, audience and issuer, then
// { preValidation: app.authenticate } on the route; request.user.
import Fastify from "fastify";
import fastifyJwtJwks from "fastify-jwt-jwks";
import { announce, benchEnv } from "./_common.mjs";

const env = benchEnv();
const app = Fastify();
await app.register(fastifyJwtJwks, {
  jwksUrl: env.jwksUri,
  audience: env.audience,
  issuer: env.issuer,
});
app.get("/me", { preValidation: app.authenticate }, async (request) => ({
  sub: request.user?.sub,
}));
await app.listen({ port: env.port, host: "127.0.0.1" });
announce(app.server.address().port, () => app.close());
