// A bench API for revocation.mjs: @meishi/express or @meishi/fastify, with or without the
// Redis revocation list (REVOCATION=redis|off, FRAMEWORK=express|fastify). It reports its port
// over IPC like the servers in servers/.
import { createServer } from "node:http";
import { authErrorHandler, jwtAuth } from "@meishi/express";
import meishi from "@meishi/fastify";
import { createRedisRevocationList } from "@meishi/redis";
import express from "express";
import Fastify from "fastify";
import { announce, benchEnv, closeServer, listen } from "./servers/_common.mjs";

const env = benchEnv();
const framework = process.env.FRAMEWORK ?? "express";
const revocation =
  process.env.REVOCATION === "redis"
    ? createRedisRevocationList({ redis: process.env.REDIS_URL, namespace: process.env.REDIS_NS })
    : undefined;
await revocation?.ready();

const revocationOption = revocation === undefined ? {} : { revocation };
// CPU time this process has used, on request: per-request CPU cost moves far less than req/s
// when other work shares the machine.
process.on("message", (message) => {
  if (message === "cpu") process.send({ cpu: process.cpuUsage() });
});

const options = {
  jwksUri: env.jwksUri,
  issuer: env.issuer,
  audience: env.audience,
  ...revocationOption,
};

if (framework === "fastify") {
  const app = Fastify();
  await app.register(meishi, options);
  app.get("/me", { onRequest: app.authenticate }, async (request) => ({ sub: request.auth?.sub }));
  await app.listen({ port: env.port, host: "127.0.0.1" });
  announce(app.server.address().port, async () => {
    await app.close();
    await revocation?.close();
  });
} else {
  const app = express();
  app.use(jwtAuth(options));
  app.get("/me", (req, res) => {
    res.json({ sub: req.auth?.sub });
  });
  app.use(authErrorHandler());
  const server = createServer(app);
  announce(await listen(server, env.port), async () => {
    await closeServer(server);
    await revocation?.close();
  });
}
