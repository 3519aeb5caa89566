// One Fastify 5 process serving the three variants bench:cpu compares (see express-paths.mjs):
// /bare, /noop (an onRequest hook that only sets the decorated request property) and /me
// ({ onRequest: app.authenticate } from @meishi/fastify, as its README shows).
import meishi from "@meishi/fastify";
import Fastify from "fastify";
import { announce, benchEnv } from "./_common.mjs";

const env = benchEnv();
const anonymous = Object.freeze({ sub: "anonymous" });
const app = Fastify();
await app.register(meishi, { jwksUri: env.jwksUri, issuer: env.issuer, audience: env.audience });
const respond = async (request) => ({ sub: request.auth?.sub ?? "anonymous" });
app.get("/bare", respond);
// Named: bench:own-cost finds it in the CPU profile.
function noopMiddleware(request, _reply, done) {
  request.auth = anonymous;
  done();
}
app.get("/noop", { onRequest: noopMiddleware }, respond);
app.get("/me", { onRequest: app.authenticate }, respond);
await app.listen({ port: env.port, host: "127.0.0.1" });
announce(app.server.address().port, () => app.close());
