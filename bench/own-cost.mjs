// meishi's own CPU per request on a cache hit, read off a CPU profile of a running server.
//
//   node own-cost.mjs [--only=<framework>]   (pnpm --filter @meishi/bench bench:own-cost)
//   env: BENCH_OWN_REQUESTS (per path and round, default 100000), BENCH_ROUNDS (default 3),
//        BENCH_CONNECTIONS (default 50), BENCH_PIN=0 (no taskset)
//
// Server CPU per request (cpu.mjs) differs by the whole request, framework included, and on a
// shared machine it moves by several µs between rounds: more than a cache hit costs. A profile
// says where the time goes whatever the machine does meanwhile. Each round starts the
// framework's paths server (servers/<framework>-paths.mjs) pinned to core 0, warms both paths
// up with 20,000 requests each, starts V8's sampling profiler in it (every 50 µs, over IPC),
// sends BENCH_OWN_REQUESTS requests with one valid token to /me and as many to /noop, stops
// the profiler, and sums the time spent inside meishi's middleware (its
// callees included, but not the rest of the chain it hands the request on to: Express's and
// Fastify's `next`, Koa's `dispatch`) and inside the no-op middleware the same way. Reported:
// medians over rounds, in µs per request, and meishi's middleware minus the no-op.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestIssuer } from "@meishi/testing";
import {
  askServer,
  cannonPath,
  cleanup,
  commandLine,
  fmt,
  median,
  onCleanup,
  pinThisProcess,
  serverEnv,
  startServer,
  table,
  today,
  writeResults,
} from "./lib.mjs";

const REQUESTS = Number(process.env.BENCH_OWN_REQUESTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP = 20_000;
const SAMPLING_US = 50;
const PIN = pinThisProcess(1);
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice(7);

/**
 * Where each framework's middleware starts (the outermost frame of that name in that file) and
 * the frames it hands the request on to, whose time belongs to the rest of the chain.
 */
const FRAMEWORKS = {
  express: {
    meishi: { name: "meishiJwtAuth", file: "express/dist/jwt-auth.js" },
    noop: { name: "noopMiddleware", file: "servers/express-paths.mjs" },
    downstream: ["next"],
  },
  koa: {
    meishi: { name: "meishiJwtAuth", file: "koa/dist/jwt-auth.js" },
    noop: { name: "noopMiddleware", file: "servers/koa-paths.mjs" },
    downstream: ["dispatch"],
  },
  fastify: {
    meishi: { name: "authenticate", file: "fastify/dist/plugin.js" },
    noop: { name: "noopMiddleware", file: "servers/fastify-paths.mjs" },
    downstream: ["next"],
  },
};

/**
 * Microseconds spent inside the outermost frames matching `entry`, callees included except
 * those named in `downstream` (and theirs), per request.
 */
function timeInside(profile, entry, downstream, requests) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map();
  profile.samples.forEach((id, i) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const inside = (id) => {
    const node = byId.get(id);
    let total = selfMicros.get(id) ?? 0;
    for (const child of node.children ?? []) {
      if (!downstream.includes(byId.get(child).callFrame.functionName)) total += inside(child);
    }
    return total;
  };
  const search = (id) => {
    const { callFrame, children = [] } = byId.get(id);
    if (callFrame.functionName === entry.name && callFrame.url.endsWith(entry.file)) {
      return inside(id);
    }
    return children.reduce((sum, child) => sum + search(child), 0);
  };
  return search(profile.nodes[0].id) / requests;
}

async function main() {
  const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
  onCleanup(() => issuer.close());
  const token = await issuer.sign({ sub: "bench", role: "standard user" });
  const env = serverEnv(issuer);
  const profileDir = mkdtempSync(join(tmpdir(), "meishi-own-cost-"));
  onCleanup(() => rmSync(profileDir, { recursive: true, force: true }));

  const results = {};
  for (const [framework, frames] of Object.entries(FRAMEWORKS)) {
    if (only !== undefined && !framework.includes(only)) continue;
    const samples = { meishi: [], noop: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServer(`${framework}-paths`, env, 15_000, PIN ? 0 : undefined);
      // Both paths warm up (JIT, the JWKS fetch, the first verification) before the profiler
      // starts, so the profile holds only the measured requests.
      const send = (path, amount) =>
        cannonPath(server.port, path, token, { connections: CONNECTIONS, amount });
      await send("/me", WARMUP);
      await send("/noop", WARMUP);
      await askServer(server.child, { profile: "start", intervalUs: SAMPLING_US }, "profiled");
      await send("/me", REQUESTS);
      await send("/noop", REQUESTS);
      const file = join(profileDir, `${framework}-${round}.cpuprofile`);
      await askServer(server.child, { profile: "stop", file }, "profiled");
      await server.stop();
      const profile = JSON.parse(readFileSync(file, "utf8"));
      for (const variant of ["meishi", "noop"]) {
        samples[variant].push(timeInside(profile, frames[variant], frames.downstream, REQUESTS));
      }
      console.log(
        `  round ${round + 1} ${framework.padEnd(8)} meishi ${samples.meishi.at(-1).toFixed(2)} µs, no-op ${samples.noop.at(-1).toFixed(2)} µs`,
      );
    }
    results[framework] = samples;
  }

  const rows = Object.entries(results).map(([framework, { meishi, noop }]) => [
    framework,
    `${fmt(median(meishi), 2)} (${fmt(Math.min(...meishi), 2)}–${fmt(Math.max(...meishi), 2)})`,
    `${fmt(median(noop), 2)} (${fmt(Math.min(...noop), 2)}–${fmt(Math.max(...noop), 2)})`,
    fmt(median(meishi.map((value, round) => value - noop[round])), 2),
  ]);
  const markdown = [
    `# meishi's own CPU per request on a cache hit, ${today()}`,
    "",
    `\`${commandLine()}\`: ${fmt(REQUESTS)} requests to each path × ${ROUNDS} rounds (a fresh server each round), ${CONNECTIONS} connections, one RS256 token; V8 CPU profile of the server sampling every ${SAMPLING_US} µs${PIN ? "; server pinned to core 0, load generator to core 1" : ""}. Time inside each middleware, its callees included but not the rest of the chain it hands the request to. Medians, range in brackets.`,
    "",
    table(
      [
        "framework",
        "meishi's middleware µs/req",
        "a no-op middleware µs/req",
        "meishi over the no-op (µs, median of rounds)",
      ],
      rows,
      ["l", "r", "r", "r"],
    ),
  ].join("\n");
  console.log(`\n${markdown}`);
  if (only === undefined) {
    writeResults(`own-cost-${today()}`, { date: today(), results }, markdown);
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
