import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, expect, it } from "vitest";

// The Worker bundled as wrangler bundles it and run in workerd (through Miniflare), with its
// bindings pointing at a real local issuer.
let issuer: TestIssuer;
let mf: Miniflare;
let origin: string;
let dir: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  dir = await mkdtemp(join(tmpdir(), "meishi-hono-worker-"));
  const scriptPath = join(dir, "worker.js");
  await build({
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), "..", "src", "index.ts")],
    outfile: scriptPath,
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    logLevel: "silent",
  });
  mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: dir,
    compatibilityDate: "2025-09-01",
    host: "127.0.0.1",
    port: 0,
    bindings: {
      JWKS_URI: issuer.jwksUri,
      ISSUER: issuer.issuer,
      AUDIENCE: issuer.audience as string,
    },
  });
  origin = (await mf.ready).origin;
});

afterAll(async () => {
  await mf?.dispose();
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = async (path: string, token?: string) =>
  fetch(
    `${origin}${path}`,
    token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
  );

it("serves /orders to a standard user", async () => {
  const res = await get("/orders", await issuer.sign({ sub: "alice", role: "standard user" }));
  expect(res.status).toBe(200);
  expect(((await res.json()) as { owner: string }).owner).toBe("alice");
});

it("refuses /admin to a standard user with 403", async () => {
  const res = await get("/admin", await issuer.sign({ role: "standard user" }));
  expect(res.status).toBe(403);
  expect(await res.json()).toEqual({
    error: "insufficient_scope",
    error_description: "The access token lacks a required role",
  });
});

it("refuses /me without a token with 401, and keeps /health public", async () => {
  const res = await get("/me");
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toBe('Bearer realm="api"');
  expect((await get("/health")).status).toBe(200);
});
