// Fastify 5 with no authentication: the ceiling for the Fastify rows.
import Fastify from "fastify";
import { announce, benchEnv } from "./_common.mjs";

const env = benchEnv();
const app = Fastify();
app.get("/me", async () => ({ sub: "anonymous" }));
await app.listen({ port: env.port, host: "127.0.0.1" });
announce(app.server.address().port, () => app.close());
