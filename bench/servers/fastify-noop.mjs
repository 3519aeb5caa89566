// Fastify 5 with a decorated request property and one onRequest hook that only sets it: what
// the framework charges for any authentication hook (see express-noop.mjs).
import Fastify from "fastify";
import { announce, benchEnv } from "./_common.mjs";

const env = benchEnv();
const identity = Object.freeze({ sub: "anonymous" });
const app = Fastify();
app.decorateRequest("auth", null);
const attach = async (request) => {
  request.auth = identity;
};
app.get("/me", { onRequest: attach }, async (request) => ({ sub: request.auth?.sub }));
await app.listen({ port: env.port, host: "127.0.0.1" });
announce(app.server.address().port, () => app.close());
