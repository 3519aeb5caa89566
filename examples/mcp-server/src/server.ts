import { createApp } from "./app.js";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`set ${name}`);
  return value;
}

const port = Number(process.env.PORT ?? 3300);
const app = createApp({
  jwksUri: env("JWKS_URI"),
  issuer: env("ISSUER"),
  audience: env("AUDIENCE"),
  publicUrl: process.env.PUBLIC_URL ?? `http://localhost:${port}`,
});
app.listen(port, process.env.HOST ?? "127.0.0.1", () => {
  console.log(`mcp-server listening on http://localhost:${port}/mcp`);
});
