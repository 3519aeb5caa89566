import { createRedisRevocationList } from "@meishi/redis";
import { createApp } from "./app.js";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`set ${name}`);
  return value;
}

// With REDIS_URL, a token revoked at the auth server (logout, an admin's "revoke everywhere")
// is refused here within milliseconds; without it the API checks signatures and claims only.
const redisUrl = process.env.REDIS_URL;
const revocation =
  redisUrl === undefined || redisUrl === ""
    ? undefined
    : createRedisRevocationList({ redis: redisUrl });
// Until the first load completes every request would get 503: load before taking traffic.
await revocation?.ready();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void (revocation?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

const port = Number(process.env.PORT ?? 3000);
const app = createApp({
  jwksUri: env("JWKS_URI"),
  issuer: env("ISSUER"),
  audience: env("AUDIENCE"),
  publicUrl: process.env.PUBLIC_URL ?? `http://localhost:${port}`,
  ...(revocation === undefined ? {} : { revocation }),
});
app.listen(port, () => {
  console.log(`express-api listening on http://localhost:${port}`);
});
