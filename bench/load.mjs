// HTTP throughput of meishi against the bare frameworks and the peer libraries.
//
//   node load.mjs [--quick] [--only=<substring>]
//   env: BENCH_DURATION (s, default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 50)
//
// Each variant runs in its own child process (bench/servers/<name>.mjs); the JWKS server
// (@meishi/testing) and the load generator (autocannon) run in this process. Rounds interleave
// the variants so that machine noise hits all of them alike; the report gives medians.
import { createTestIssuer, generateTestKey, signToken } from "@meishi/testing";
import autocannon from "autocannon";
import {
  cleanup,
  commandLine,
  fmt,
  machine,
  median,
  onCleanup,
  pinThisProcess,
  ratio,
  serverCpuMicros,
  startServer,
  table,
  today,
  writeResults,
} from "./lib.mjs";

// Server on core 0, this process (autocannon and the JWKS server) on core 1, as an independent
// harness would run it; BENCH_PIN=0 turns it off.
const PIN = pinThisProcess(1);

/** @typedef {{ framework: string, name: string, label: string, peer?: string }} Variant */

/** @type {Variant[]} */
const VARIANTS = [
  { framework: "express", name: "express-bare", label: "bare (no auth)" },
  { framework: "express", name: "express-meishi", label: "@meishi/express" },
  {
    framework: "express",
    name: "express-meishi-nocache",
    label: "@meishi/express, verified-token cache off",
  },
  {
    framework: "express",
    name: "express-express-jwt",
    label: "express-jwt + jwks-rsa",
    peer: "express-jwt@8.5.1 + jwks-rsa@4.1.0",
  },
  {
    framework: "express",
    name: "express-oauth2-jwt-bearer",
    label: "express-oauth2-jwt-bearer",
    peer: "express-oauth2-jwt-bearer@1.10.0",
  },
  { framework: "koa", name: "koa-bare", label: "bare (no auth)" },
  { framework: "koa", name: "koa-meishi", label: "@meishi/koa" },
  {
    framework: "koa",
    name: "koa-meishi-nocache",
    label: "@meishi/koa, verified-token cache off",
  },
  {
    framework: "koa",
    name: "koa-koa-jwt",
    label: "koa-jwt + jwks-rsa",
    peer: "koa-jwt@4.0.4 + jwks-rsa@4.1.0",
  },
  { framework: "fastify", name: "fastify-bare", label: "bare (no auth)" },
  { framework: "fastify", name: "fastify-meishi", label: "@meishi/fastify" },
  {
    framework: "fastify",
    name: "fastify-meishi-nocache",
    label: "@meishi/fastify, verified-token cache off",
  },
  {
    framework: "fastify",
    name: "fastify-fastify-jwt",
    label: "@fastify/jwt + get-jwks",
    peer: "@fastify/jwt@10.2.8 + get-jwks@11.0.3",
  },
  {
    framework: "fastify",
    name: "fastify-fastify-jwt-jwks",
    label: "fastify-jwt-jwks",
    peer: "fastify-jwt-jwks@3.1.2",
  },
];

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const DURATION = quick ? 1 : Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP = 1;

/**
 * One request, returning its status.
 * @param {number} port
 * @param {string | undefined} token
 */
async function status(port, token) {
  const res = await fetch(`http://127.0.0.1:${port}/me`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Prove the configuration really verifies: the valid token gets 200, a forged one and none
 * get 401. Throws with a clear message otherwise.
 * @param {Variant} variant
 * @param {number} port
 * @param {{ good: string, forged: string }} tokens
 */
async function checkVariant(variant, port, tokens) {
  const bare = variant.name.endsWith("-bare");
  const good = await status(port, tokens.good);
  if (good !== 200) throw new Error(`${variant.name}: valid token answered ${good}, not 200`);
  if (bare) return;
  const forged = await status(port, tokens.forged);
  if (forged !== 401) throw new Error(`${variant.name}: forged token answered ${forged}, not 401`);
  const none = await status(port, undefined);
  if (none !== 401) throw new Error(`${variant.name}: no token answered ${none}, not 401`);
}

/**
 * @param {number} port
 * @param {string} token
 * @param {number} duration
 */
function cannon(port, token, duration) {
  return autocannon({
    url: `http://127.0.0.1:${port}/me`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    headers: { authorization: `Bearer ${token}` },
  });
}

async function main() {
  const variants = VARIANTS.filter((v) => only === undefined || v.name.includes(only));
  if (variants.length === 0) throw new Error(`--only=${only} matches no variant`);

  const issuer = await createTestIssuer();
  onCleanup(() => issuer.close());
  const env = {
    JWKS_URI: issuer.jwksUri,
    ISSUER: issuer.issuer,
    AUDIENCE: String(issuer.audience),
  };
  // One hour, so the token outlives any run; the claims are the issuer's defaults.
  const good = await issuer.sign({ sub: "bench-user" }, { expiresInSec: 3600 });
  // Same header and claims, signed by a key the issuer never published: must be refused.
  const attacker = await generateTestKey("RS256");
  const [goodHeader, goodPayload] = good
    .split(".")
    .slice(0, 2)
    .map((part) => JSON.parse(decode(part)));
  const forged = await signToken(attacker, goodPayload, { ...goodHeader });
  const tokens = { good, forged };

  const startedAt = new Date();
  const loadAtStart = machine().loadavg;
  if (loadAtStart[0] > 0.5) {
    console.warn(`warning: 1-min load average is ${loadAtStart[0]} before the run; expect noise`);
  }
  const seconds = variants.length * ROUNDS * (DURATION + WARMUP + 1);
  console.log(
    `load: ${variants.length} variants × ${ROUNDS} round(s) × ${DURATION}s, ` +
      `${CONNECTIONS} connections, pipelining 1 (~${Math.ceil(seconds / 60)} min)`,
  );

  /** @type {Map<string, { rps: number[], p99: number[], p50: number[], serverUsPerRequest: number[], serverBusy: number[], generatorBusy: number[], non2xx: number, errors: number }>} */
  const samples = new Map(
    variants.map((v) => [
      v.name,
      {
        rps: [],
        p99: [],
        p50: [],
        serverUsPerRequest: [],
        serverBusy: [],
        generatorBusy: [],
        non2xx: 0,
        errors: 0,
      },
    ]),
  );
  /** @type {Map<string, string>} */
  const failed = new Map();

  for (let round = 0; round < ROUNDS; round += 1) {
    // Rotate the order each round so no variant always runs first or last.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const variant of order) {
      if (failed.has(variant.name)) continue;
      const server = await startServer(variant.name, env, 15_000, PIN ? 0 : undefined).catch(
        (error) => {
          failed.set(variant.name, error.message.split("\n")[0]);
          console.error(`  ! ${error.message}`);
          return undefined;
        },
      );
      if (server === undefined) continue;
      try {
        await checkVariant(variant, server.port, tokens);
        await cannon(server.port, good, WARMUP);
        // Who was busy: a server under 90 % of a core while this process (autocannon) was over
        // 90 % means the load generator, not the server, set the pace.
        const serverBefore = await serverCpuMicros(server.child);
        const generatorBefore = process.cpuUsage();
        const wallStart = performance.now();
        const result = await cannon(server.port, good, DURATION);
        const wallMicros = (performance.now() - wallStart) * 1000;
        const generator = process.cpuUsage(generatorBefore);
        const serverMicros = (await serverCpuMicros(server.child)) - serverBefore;
        const s = samples.get(variant.name);
        s.serverUsPerRequest.push(serverMicros / Math.max(1, result.requests.total));
        s.serverBusy.push(serverMicros / wallMicros);
        s.generatorBusy.push((generator.user + generator.system) / wallMicros);
        s.rps.push(result.requests.average);
        s.p99.push(result.latency.p99);
        s.p50.push(result.latency.p50);
        s.non2xx += result.non2xx;
        s.errors += result.errors + result.timeouts;
        console.log(
          `  round ${round + 1}/${ROUNDS} ${variant.name.padEnd(28)} ` +
            `${fmt(result.requests.average).padStart(8)} req/s  p99 ${result.latency.p99} ms` +
            (result.non2xx + result.errors > 0
              ? `  (non-2xx ${result.non2xx}, errors ${result.errors})`
              : ""),
        );
      } catch (error) {
        failed.set(variant.name, error.message);
        console.error(`  ! ${error.message} — row aborted`);
      } finally {
        await server.stop();
      }
    }
  }

  const rows = variants.map((v) => {
    const s = samples.get(v.name);
    return {
      ...v,
      rps: median(s.rps),
      p50: median(s.p50),
      p99: median(s.p99),
      serverUs: median(s.serverUsPerRequest),
      generatorBound: median(s.generatorBusy) > 0.9 && median(s.serverBusy) < 0.9,
      samples: s,
      failed: failed.get(v.name),
    };
  });

  const markdown = report(rows, startedAt, loadAtStart);
  console.log(`\n${markdown}`);
  const base = `load-${today()}${quick ? "-quick" : ""}`;
  const { jsonPath, mdPath } = writeResults(
    base,
    {
      kind: "load",
      date: startedAt.toISOString(),
      command: commandLine(),
      settings: {
        duration: DURATION,
        warmup: WARMUP,
        rounds: ROUNDS,
        connections: CONNECTIONS,
        pipelining: 1,
      },
      machine: { ...machine(), loadavgAtStart: loadAtStart },
      rows: rows.map(({ framework, name, label, peer, rps, p50, p99, samples: s, failed: f }) => ({
        framework,
        name,
        label,
        peer: peer ?? null,
        medianRps: Math.round(rps),
        medianP50Ms: p50,
        medianP99Ms: p99,
        rpsPerRound: s.rps.map(Math.round),
        serverCpuUsPerRequestPerRound: s.serverUsPerRequest,
        serverBusyPerRound: s.serverBusy,
        generatorBusyPerRound: s.generatorBusy,
        p99PerRound: s.p99,
        non2xx: s.non2xx,
        errors: s.errors,
        failed: f ?? null,
      })),
    },
    markdown,
  );
  console.log(`\nwrote ${jsonPath}\nwrote ${mdPath}`);
}

function decode(part) {
  return Buffer.from(part, "base64url").toString("utf8");
}

/**
 * @param {Array<Variant & { rps: number, p50: number, p99: number, samples: { non2xx: number, errors: number }, failed?: string }>} rows
 * @param {Date} startedAt
 */
function report(rows, startedAt, loadAtStart) {
  const m = machine();
  const lines = [
    `### HTTP load — ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Command: \`${commandLine()}\` — ${DURATION} s × ${ROUNDS} round(s) per variant after a ${WARMUP} s warm-up, ` +
      `${CONNECTIONS} connections, pipelining 1, GET /me with one valid RS256 token (so meishi's default verified-token cache answers; the \`cache off\` rows verify the signature on every request). ` +
      `Node ${m.node}, ${m.cores} × ${m.cpu}; load average ${loadAtStart[0]} at start, ` +
      `${m.loadavg[0]} at end. Medians over rounds.` +
      (PIN ? " Server pinned to core 0, load generator to core 1 (taskset)." : ""),
    "",
  ];
  for (const framework of [...new Set(rows.map((r) => r.framework))]) {
    const group = rows.filter((r) => r.framework === framework);
    const bare = group.find((r) => r.name.endsWith("-bare"));
    const meishi = group.find((r) => r.name.endsWith("-meishi"));
    lines.push(`**${framework}**`, "");
    lines.push(
      table(
        [
          "variant",
          "req/s (median)",
          "server CPU µs/req",
          "p50 ms",
          "p99 ms",
          "vs bare",
          "meishi vs this",
          "non-2xx",
        ],
        group.map((r) => {
          if (r.failed !== undefined)
            return [r.label, "—", "—", "—", "—", "—", "—", `aborted: ${r.failed}`];
          return [
            r.generatorBound ? `${r.label} ⚠ load generator bound` : r.label,
            fmt(r.rps),
            fmt(r.serverUs, 1),
            fmt(r.p50, 0),
            fmt(r.p99, 0),
            bare && r !== bare ? `${fmt((100 * r.rps) / bare.rps, 0)} %` : "—",
            meishi && r !== meishi && r !== bare && meishi.failed === undefined
              ? ratio(meishi.rps, r.rps)
              : "—",
            String(r.samples.non2xx + r.samples.errors),
          ];
        }),
        ["l", "r", "r", "r", "r", "r", "r", "r"],
      ),
      "",
    );
  }
  lines.push(
    "`vs bare` = req/s as a share of the same framework with no auth. " +
      "`meishi vs this` = meishi's req/s divided by this row's (above 1.00× means meishi is faster). " +
      "`server CPU µs/req` = the server process's own CPU time per answered request. " +
      "⚠ load generator bound = autocannon's process was over 90 % of a core while the server was " +
      "under 90 %: that row's req/s measures the load generator; read its CPU µs/req instead.",
  );
  return lines.join("\n");
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
