#!/usr/bin/env node
import { createRedisRevocationList } from "@meishi/redis";
import { type AuthServer, createAuthServer } from "./app.js";
import { configFromEnv } from "./config.js";

let server: AuthServer;
// With REDIS_URL, logout and the admin's "revoke everywhere" reach every API sharing that Redis.
const redisUrl = process.env.REDIS_URL;
const revocation =
  redisUrl === undefined || redisUrl === ""
    ? undefined
    : createRedisRevocationList({ redis: redisUrl });
try {
  server = createAuthServer({
    ...configFromEnv(process.env),
    ...(revocation === undefined ? {} : { revocation }),
  });
} catch (error) {
  console.error(`auth-server: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`auth-server: ${signal}, shutting down`);
  try {
    await server.close();
    await revocation?.close();
    process.exit(0);
  } catch (error) {
    console.error("auth-server: shutdown failed", error);
    process.exit(1);
  }
}
// Installed before the "listening" line, so a supervisor that signals as soon as it reads
// that line never catches the process without its handlers.
process.once("SIGTERM", (signal) => void shutdown(signal));
process.once("SIGINT", (signal) => void shutdown(signal));

// The admin routes check the list too: load it before taking traffic.
await revocation?.ready();
const { url } = await server.listen();
// The demo waits for this exact line and reads the URL from it.
console.log(`auth-server listening on ${url}`);
console.log(
  `auth-server issuer ${server.issuer}, audience ${server.audience}, state in ${server.databasePath}`,
);
