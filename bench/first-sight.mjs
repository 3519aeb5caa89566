// First sight of every token over HTTP: each request carries a token the server has not seen
// in the last 20,000 requests, so every library verifies a signature on every request.
//
//   node first-sight.mjs [--only=<substring>]   (pnpm --filter @meishi/bench bench:first-sight)
//   env: BENCH_DURATION (s, default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 50),
//        BENCH_TOKENS (distinct tokens, default 20000)
//
// Every server runs as its README shows, caches included (meishi's verified-token cache holds
// 10,000 entries; fast-jwt's, under @fastify/jwt, 1,000 when enabled): the tokens come back in
// the same order, so an LRU smaller than the pool never hits, and the cache's cost on a miss is
// part of the figure. Rounds alternate the servers' order; the report gives median req/s, the
// share of bare, and meishi against each peer as the median of the same-round ratios.

import { createTestIssuer } from "@meishi/testing";
import {
  cannonWithTokens,
  chosenServers,
  cleanup,
  commandLine,
  fmt,
  machine,
  median,
  onCleanup,
  pinThisProcess,
  serverCpuMicros,
  serverEnv,
  startServer,
  table,
  today,
  writeResults,
} from "./lib.mjs";

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 20_000);
// Server on core 0, this process (autocannon, the JWKS server) on core 1; BENCH_PIN=0 turns it
// off. Pinned, a library that verifies on libuv's threadpool (WebCrypto) shares the server's
// core like one that verifies on the main thread: per request, both cost the server's CPU.
const PIN = pinThisProcess(1);
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice(7);

const SERVERS = {
  express: [
    "express-bare",
    "express-meishi",
    "express-meishi-nocache",
    "express-express-jwt",
    "express-oauth2-jwt-bearer",
  ],
  koa: ["koa-bare", "koa-meishi", "koa-meishi-nocache", "koa-koa-jwt"],
  fastify: [
    "fastify-bare",
    "fastify-meishi",
    "fastify-meishi-nocache",
    "fastify-fastify-jwt",
    "fastify-fastify-jwt-jwks",
  ],
};

async function main() {
  const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
  onCleanup(() => issuer.close());
  console.log(`first-sight: minting ${fmt(TOKENS)} tokens…`);
  const tokens = [];
  for (let i = 0; i < TOKENS; i++) tokens.push(await issuer.sign({ sub: `user-${i}` }));
  let next = 0;
  const nextToken = () => tokens[next++ % TOKENS];
  const env = serverEnv(issuer);

  const results = {};
  for (const [framework, chosen] of chosenServers(SERVERS, only)) {
    const servers = {};
    for (const name of chosen) {
      servers[name] = await startServer(name, env, 15_000, PIN ? 0 : undefined);
      // Warm-up (JIT, keys); then the measured rounds start where it left off in the pool.
      await cannonWithTokens(servers[name].port, nextToken, {
        connections: CONNECTIONS,
        amount: 5_000,
      });
    }
    const rps = Object.fromEntries(chosen.map((name) => [name, []]));
    const cpu = Object.fromEntries(chosen.map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? chosen : [...chosen].reverse();
      for (const name of order) {
        const cpuBefore = await serverCpuMicros(servers[name].child);
        const result = await cannonWithTokens(servers[name].port, nextToken, {
          connections: CONNECTIONS,
          duration: DURATION,
        });
        cpu[name].push(
          ((await serverCpuMicros(servers[name].child)) - cpuBefore) /
            Math.max(1, result.requests.total),
        );
        // Every token is valid: anything but 2xx means a misconfigured row, not a fast one.
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
        }
        rps[name].push(result.requests.average);
        console.log(
          `  round ${round + 1} ${name.padEnd(28)} ${fmt(result.requests.average).padStart(8)} req/s ${cpu[name].at(-1).toFixed(1)} µs CPU/req`,
        );
      }
    }
    for (const name of chosen) await servers[name].stop();
    results[framework] = { rps, cpu };
  }

  const rows = [];
  for (const [framework, { rps, cpu }] of Object.entries(results)) {
    const bare = rps[`${framework}-bare`];
    const meishi = rps[`${framework}-meishi`];
    for (const [name, values] of Object.entries(rps)) {
      const isPeer = !name.includes("-meishi") && !name.endsWith("-bare");
      rows.push([
        name,
        fmt(median(values)),
        `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`,
        fmt(median(cpu[name]), 1),
        bare ? `${((median(values) / median(bare)) * 100).toFixed(0)} %` : "—",
        meishi && isPeer
          ? `${median(meishi.map((value, round) => value / values[round])).toFixed(2)}×`
          : "—",
      ]);
    }
  }
  const markdown = [
    `# First sight of every token, ${today()}`,
    "",
    `\`${commandLine()}\`: ${fmt(TOKENS)} distinct RS256 tokens in turn, ${CONNECTIONS} connections, ${DURATION} s × ${ROUNDS} rounds, servers alternating; medians${PIN ? "; server pinned to core 0, load generator to core 1" : ""}. Server CPU µs/req is the server process's own CPU time (all its threads) per answered request. Machine load average at start: ${machine().loadavg.join(", ")}.`,
    "",
    table(
      [
        "server",
        "req/s (median)",
        "range",
        "server CPU µs/req",
        "share of bare",
        "meishi × (median of same-round ratios)",
      ],
      rows,
      ["l", "r", "r", "r", "r", "r"],
    ),
  ].join("\n");
  console.log(`\n${markdown}`);
  if (only === undefined) {
    writeResults(
      `first-sight-${today()}`,
      { date: today(), machine: machine(), results },
      markdown,
    );
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
