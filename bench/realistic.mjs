// Realistic traffic over HTTP, and a junk flood beside a legitimate client.
//
//   node realistic.mjs [--only=<substring>]     (pnpm --filter @meishi/bench bench:realistic)
//   env: BENCH_DURATION (s, default 5), BENCH_ROUNDS (default 2), BENCH_CONNECTIONS (default 50)
//
// Traffic: 10,000 users each reusing their own RS256 token, chosen Zipf (s = 1); 1 % of
// requests carry an invalid token; 0.1 % of users (10) get a new token every second. Every
// server (bare, meishi, the peers) first gets each user's token once (the steady state of an
// API that has been up a while), then the same mix; rounds alternate the servers. Reported:
// median req/s and p99 over rounds, as a share of bare and against each peer.
// Flood: meishi's p99 for one legitimate token, quiet and then while a second load generator
// sends 10,000 distinct junk tokens (random unknown kids and bad signatures) at the same server.

import { randomBytes, randomUUID } from "node:crypto";
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
  ratio,
  serverEnv,
  startServer,
  table,
  today,
  writeResults,
} from "./lib.mjs";

// Server on core 0, this process (autocannon, the JWKS server) on core 1; BENCH_PIN=0 turns it off.
const PIN = pinThisProcess(1);

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice(7);
const USERS = 10_000;

const SERVERS = {
  express: ["express-bare", "express-meishi", "express-express-jwt", "express-oauth2-jwt-bearer"],
  koa: ["koa-bare", "koa-meishi", "koa-koa-jwt"],
  fastify: ["fastify-bare", "fastify-meishi", "fastify-fastify-jwt", "fastify-fastify-jwt-jwks"],
};

function zipfSampler(n) {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += 1 / (i + 1);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += 1 / (i + 1) / total;
    cumulative[i] = acc;
  }
  return () => {
    const r = Math.random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function run(port, pickToken, length = { duration: DURATION }) {
  return cannonWithTokens(port, pickToken, { connections: CONNECTIONS, ...length });
}

async function main() {
  const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
  onCleanup(() => issuer.close());
  console.log(`realistic: minting ${fmt(USERS)} user tokens…`);
  const tokens = [];
  for (let i = 0; i < USERS; i++)
    tokens.push(await issuer.sign({ sub: `user-${i}`, role: "standard user" }));
  const renewals = [];
  for (let i = 0; i < 10 * DURATION * ROUNDS * 12; i++)
    renewals.push(await issuer.sign({ sub: `renewed-${i}` }));
  const invalid = `${tokens[0].slice(0, -6)}AAAAAA`;
  const zipf = zipfSampler(USERS);
  const current = [...tokens];
  let renewed = 0;
  const renewTimer = setInterval(() => {
    for (let i = 0; i < 10 && renewed < renewals.length; i++) current[zipf()] = renewals[renewed++];
  }, 1000);
  onCleanup(() => clearInterval(renewTimer));
  const pick = () => (Math.random() < 0.01 ? invalid : current[zipf()]);
  const env = serverEnv(issuer);

  const results = {};
  for (const [framework, chosen] of chosenServers(SERVERS, only)) {
    const servers = {};
    for (const name of chosen) {
      servers[name] = await startServer(name, env, 15_000, PIN ? 0 : undefined);
      // A running API has seen its active users before: every server (the peers too) first
      // gets each user's token once, so the rounds measure the steady state, not a cold start.
      let nextUser = 0;
      await run(servers[name].port, () => current[nextUser++ % USERS], { amount: USERS });
    }
    const samples = Object.fromEntries(chosen.map((name) => [name, { rps: [], p99: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of chosen) {
        const result = await run(servers[name].port, pick);
        samples[name].rps.push(result.requests.average);
        samples[name].p99.push(result.latency.p99);
        console.log(
          `  round ${round + 1} ${name.padEnd(28)} ${fmt(result.requests.average).padStart(8)} req/s p99 ${result.latency.p99} ms`,
        );
      }
    }
    for (const name of chosen) await servers[name].stop();
    results[framework] = Object.fromEntries(
      chosen.map((name) => [
        name,
        { rps: median(samples[name].rps), p99: median(samples[name].p99), rounds: samples[name] },
      ]),
    );
  }

  // Junk flood beside a legitimate client, meishi on Fastify.
  let flood;
  if (only === undefined || only.includes("flood")) {
    const server = await startServer("fastify-meishi", env, 15_000, PIN ? 0 : undefined);
    const good = tokens[0];
    const quiet = await run(server.port, () => good);
    // The same load without junk: twice the connections, all legitimate. A closed-loop flood on
    // as many connections again doubles the work the server is offered, whatever the tokens; this
    // row says how much of the flood's p99 is that doubling and how much the junk itself.
    const doubled = await Promise.all([run(server.port, () => good), run(server.port, () => good)]);
    const junk = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 === 0
        ? `${Buffer.from(JSON.stringify({ alg: "RS256", kid: randomUUID() })).toString("base64url")}.${good.split(".")[1]}.${randomBytes(256).toString("base64url")}`
        : `${good.split(".")[0]}.${good.split(".")[1]}.${randomBytes(256).toString("base64url")}`,
    );
    let next = 0;
    const [noisy] = await Promise.all([
      run(server.port, () => good),
      run(server.port, () => junk[next++ % junk.length]),
    ]);
    await server.stop();
    flood = {
      quietP99: quiet.latency.p99,
      floodP99: noisy.latency.p99,
      sameLoadP99: doubled[0].latency.p99,
      quietRps: quiet.requests.average,
      floodRps: noisy.requests.average,
    };
    console.log(
      `flood: p99 quiet ${flood.quietP99} ms, same load legitimate ${flood.sameLoadP99} ms, during a junk flood ${flood.floodP99} ms`,
    );
  }
  clearInterval(renewTimer);

  const rows = [];
  for (const [framework, variants] of Object.entries(results)) {
    const bare = variants[`${framework}-bare`];
    const meishi = variants[`${framework}-meishi`];
    for (const [name, value] of Object.entries(variants)) {
      rows.push([
        name,
        fmt(value.rps),
        `${value.p99} ms`,
        bare ? `${((value.rps / bare.rps) * 100).toFixed(0)} %` : "—",
        meishi && name !== `${framework}-meishi` && !name.endsWith("-bare")
          ? `${ratio(meishi.rps, value.rps)}`
          : "—",
      ]);
    }
  }
  const markdown = [
    `# Realistic traffic, ${today()}`,
    "",
    `\`${commandLine()}\`: 10,000 users (Zipf, s = 1), 1 % invalid tokens, 10 users renewed per second; ${CONNECTIONS} connections, ${DURATION} s × ${ROUNDS} rounds, medians. Machine load average at start: ${machine().loadavg.join(", ")}.`,
    "",
    table(["server", "req/s", "p99", "share of bare", "meishi ×"], rows, ["l", "r", "r", "r", "r"]),
    "",
    flood
      ? `Junk flood (Fastify + meishi): p99 of a legitimate client ${flood.quietP99} ms quiet, ${flood.floodP99} ms while 10,000 distinct junk tokens arrive on ${CONNECTIONS} more connections (${(flood.floodP99 / Math.max(1, flood.quietP99)).toFixed(2)}× quiet). With ${CONNECTIONS} more connections of legitimate requests instead of junk (the same offered load), its p99 is ${flood.sameLoadP99} ms: the flood costs ${(flood.floodP99 / Math.max(1, flood.sameLoadP99)).toFixed(2)}× what the same load of legitimate traffic costs.`
      : "",
  ].join("\n");
  console.log(`\n${markdown}`);
  if (only === undefined)
    writeResults(
      `realistic-${today()}`,
      { date: today(), machine: machine(), results, flood },
      markdown,
    );
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
