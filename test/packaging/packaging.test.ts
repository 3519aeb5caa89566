// Proves what users get from npm: each packed tarball passes publint and Are The Types Wrong
// (ESM-only profile), installs into throwaway CommonJS and ESM projects, loads there with
// `require` and `import`, and type-checks for both kinds of TypeScript user.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const PACKAGES = [
  "core",
  "testing",
  "express",
  "koa",
  "fastify",
  "lambda",
  "cli",
  "presets",
  "otel",
  "redis",
  "hono",
] as const;
const bin = (name: string) => join(root, "node_modules", ".bin", name);

let work: string;
const tarballs = new Map<string, string>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "meishi-packaging-"));
  const packs = join(work, "packs");
  await mkdir(packs);
  for (const name of PACKAGES) {
    await run("pnpm", ["pack", "--pack-destination", packs], { cwd: join(root, "packages", name) });
  }
  for (const file of await readdir(packs)) {
    const name = PACKAGES.find((pkg) => file === `meishi-${pkg}-${file.split("-").pop()}`);
    if (name) tarballs.set(name, join(packs, file));
  }
  expect([...tarballs.keys()].sort()).toEqual([...PACKAGES].sort());
  await writeFile(join(work, "package.json"), JSON.stringify({ name: "consumer", private: true }));
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      ...tarballs.values(),
      "express@5",
      "koa@3",
      "fastify@5",
      "@types/express@5",
      "@types/koa@3",
      "@types/node@20",
      "@types/aws-lambda",
      "@opentelemetry/api@1.9",
      "hono@4",
    ],
    { cwd: work, maxBuffer: 16 * 1024 * 1024 },
  );
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(PACKAGES)("@meishi/%s tarball", (name) => {
  it("passes publint", async () => {
    const { stdout } = await run(bin("publint"), ["run", tarballs.get(name)!, "--strict"]);
    expect(stdout).toContain("All good");
  });

  it("passes Are The Types Wrong for an ESM-only package", async () => {
    await expect(
      run(bin("attw"), [tarballs.get(name)!, "--profile", "esm-only", "--format", "json"]),
    ).resolves.toBeTruthy();
  });
});

describe("consumers", () => {
  it("load every package with require() from a CommonJS project", async () => {
    const dir = join(work, "cjs");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "commonjs" }));
    await writeFile(
      join(dir, "index.js"),
      `const core = require("@meishi/core");
const { jwtAuth } = require("@meishi/express");
const koa = require("@meishi/koa");
const fastifyPlugin = require("@meishi/fastify");
const testing = require("@meishi/testing");
const lambda = require("@meishi/lambda");
const presets = require("@meishi/presets");
const otel = require("@meishi/otel");
const cli = require("@meishi/cli/package.json");
const redis = require("@meishi/redis");
const hono = require("@meishi/hono");
const checks = [
  typeof core.createVerifier, typeof jwtAuth, typeof koa.jwtAuth,
  typeof (fastifyPlugin.default ?? fastifyPlugin), typeof testing.createTestIssuer,
  typeof lambda.createHttpApiAuthorizer, typeof cli.bin.meishi,
  typeof presets.keycloak, typeof otel.meishiTelemetry, typeof redis.createRedisRevocationList,
  typeof hono.jwtAuth,
  String(new core.InvalidTokenError() instanceof core.AuthError),
];
console.log(checks.join(","));`,
    );
    const { stdout } = await run("node", ["index.js"], { cwd: dir });
    expect(stdout.trim()).toBe(
      "function,function,function,function,function,function,string,function,function,function,function,true",
    );
  });

  it("load every package with import from an ESM project and verify a real token", async () => {
    const dir = join(work, "esm");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    await writeFile(
      join(dir, "index.js"),
      `import { createVerifier } from "@meishi/core";
import { createTestIssuer } from "@meishi/testing";
import meishi from "@meishi/fastify";
import { jwtAuth as koaAuth } from "@meishi/koa";
import { jwtAuth } from "@meishi/express";
import { createRedisReplayStore } from "@meishi/redis";
const issuer = await createTestIssuer();
const verifier = createVerifier({ jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience });
const identity = await verifier.verify(await issuer.sign({ sub: "esm-user" }));
await issuer.close();
console.log([identity.sub, typeof meishi, typeof koaAuth, typeof jwtAuth, typeof createRedisReplayStore].join(","));`,
    );
    const { stdout } = await run("node", ["index.js"], { cwd: dir });
    expect(stdout.trim()).toBe("esm-user,function,function,function,function");
  });

  it("type-check for TypeScript users compiling to CommonJS and to ESM", async () => {
    const dir = join(work, "types");
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        include: ["*.cts", "*.mts"],
      }),
    );
    await writeFile(
      join(dir, "app.cts"),
      `import express = require("express");
import meishiExpress = require("@meishi/express");
import core = require("@meishi/core");
const app = express();
app.use(meishiExpress.jwtAuth({ jwksUri: "https://a.example/jwks", issuer: "https://a.example", audience: "api" }));
app.get("/orders", meishiExpress.requireRole("standard user"), (req, res) => {
  const sub: string | undefined = req.auth?.sub;
  const roles: readonly string[] | undefined = req.auth?.roles;
  res.json({ sub, roles });
});
export const verifier: core.Verifier = core.createVerifier({ keys: { keys: [] }, issuer: null, audience: null });
`,
    );
    await writeFile(
      join(dir, "app.mts"),
      `import Fastify from "fastify";
import meishi from "@meishi/fastify";
import Koa from "koa";
import { jwtAuth, requireRole } from "@meishi/koa";
import { createVerifier, type Identity } from "@meishi/core";
const fastify = Fastify();
await fastify.register(meishi, { jwksUri: "https://a.example/jwks", issuer: "https://a.example", audience: "api" });
fastify.get("/orders", { onRequest: fastify.requireRole("standard user") }, async (request) => {
  const auth: Identity | null = request.auth;
  return { sub: auth?.sub };
});
const koa = new Koa();
koa.use(jwtAuth({ jwksUri: "https://a.example/jwks", issuer: "https://a.example", audience: "api" }));
koa.use(requireRole("admin"));
koa.use((ctx) => { ctx.body = ctx.state.auth?.sub; });
// @ts-expect-error issuer and audience are required in the options form
createVerifier({ jwksUri: "https://a.example/jwks" });
`,
    );
    await expect(run(bin("tsc"), ["-p", dir], { cwd: dir })).resolves.toBeTruthy();
  });
});
