import { createApp } from "./app.js";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`set ${name}`);
  return value;
}

const port = Number(process.env.PORT ?? 3000);
const app = await createApp({
  jwksUri: env("JWKS_URI"),
  issuer: env("ISSUER"),
  audience: env("AUDIENCE"),
  publicUrl: process.env.PUBLIC_URL ?? `http://localhost:${port}`,
});
await app.listen({ port, host: process.env.HOST ?? "127.0.0.1" });
