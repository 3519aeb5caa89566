// Revocation over Redis: what it costs per request, how fast a revocation reaches another
// process, and what a million revoked jtis cost in memory.
//
//   node revocation.mjs [--quick] [--only=memory,cost,propagation,throughput]
//   env: BENCH_DURATION (s, default 3), BENCH_ROUNDS (default 6), BENCH_CONNECTIONS (default 50),
//        BENCH_REVOCATION_SAMPLES (default 500), BENCH_REVOCATION_ENTRIES (default 1000000),
//        BENCH_REVOCATION_PRELOAD (default 100000)
//
// Starts its own redis-server (persistence off, loopback, free port) and stops it at the end.
import { fork, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVerifier } from "@meishi/core";
import { createRedisRevocationList } from "@meishi/redis";
import { createTestIssuer } from "@meishi/testing";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import {
  BENCH_DIR,
  cleanup,
  commandLine,
  fmt,
  forkPlacement,
  machine,
  median,
  onCleanup,
  pinThisProcess,
  table,
  today,
  writeResults,
} from "./lib.mjs";

const quick = process.argv.includes("--quick");
// --only=memory,cost,propagation,throughput runs those parts only (and writes no result files).
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const part = (name) => only === undefined || only.includes(name);
const DURATION = quick ? 1 : Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SAMPLES = quick ? 50 : Number(process.env.BENCH_REVOCATION_SAMPLES ?? 500);
const ENTRIES = quick ? 100_000 : Number(process.env.BENCH_REVOCATION_ENTRIES ?? 1_000_000);
const PRELOAD = quick ? 10_000 : Number(process.env.BENCH_REVOCATION_PRELOAD ?? 100_000);
const WARMUP = 1;

/** @type {Set<import("node:child_process").ChildProcess>} */
const children = new Set();
onCleanup(() => {
  for (const child of children) child.kill("SIGKILL");
});

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      tmpdir(),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.add(child);
  await new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("Ready to accept connections")) {
        child.stdout.resume();
        resolve();
      }
    });
  });
  const version = /v=([\d.]+)/.exec(
    await new Promise((resolve) => {
      const v = spawn("redis-server", ["--version"]);
      let text = "";
      v.stdout.on("data", (c) => {
        text += c;
      });
      v.on("close", () => resolve(text));
    }),
  )?.[1];
  return { url: `redis://127.0.0.1:${port}`, version };
}

/**
 * Fork one of the revocation*.mjs helpers and wait for its first IPC message.
 * @param {string} file
 * @param {Record<string, string>} env
 * @param {{ execArgv?: string[], pinToCpu?: number }} [placement]
 */
function forkChild(file, env, { execArgv = [], pinToCpu } = {}) {
  const child = fork(join(BENCH_DIR, file), [], {
    env: { ...process.env, PORT: "0", ...env },
    ...forkPlacement(pinToCpu, execArgv),
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  children.add(child);
  const first = new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", resolve);
      child.kill("SIGTERM");
    }).finally(() => children.delete(child));
  return { child, first, stop };
}

/** @param {import("node:child_process").ChildProcess} child */
function cpuOf(child) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.cpu === undefined) return;
      child.off("message", onMessage);
      resolve(message.cpu);
    };
    child.on("message", onMessage);
    child.send("cpu");
  });
}

async function get(port, token) {
  const res = await fetch(`http://127.0.0.1:${port}/me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Writes revoked jtis straight into the tokens set, as many writes over time would. */
async function preload(redis, ns, issuer, count) {
  const key = `{${ns}}:tokens`;
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const prefix = `${issuer.length}:${issuer}`;
  for (let start = 0; start < count; start += 10_000) {
    const args = [];
    for (let i = start; i < Math.min(count, start + 10_000); i += 1) {
      args.push(expiresAt, `${prefix}jti-${i}`);
    }
    await redis.zadd(key, ...args);
  }
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function throughput(env, issuer, redisUrl, ns) {
  // The server on core 0, autocannon (this process) on core 1: the server's CPU per request is
  // then not inflated by sharing a core with the load generator.
  const pinned = pinThisProcess(1);
  const good = await issuer.sign({ sub: "bench-user", jti: randomUUID() }, { expiresInSec: 3600 });
  const revoked = await issuer.sign(
    { sub: "bench-user", jti: randomUUID() },
    { expiresInSec: 3600 },
  );
  const writer = createRedisRevocationList({ redis: redisUrl, namespace: ns });
  await writer.ready();
  const claims = JSON.parse(Buffer.from(revoked.split(".")[1], "base64url").toString());
  await writer.revokeToken({ issuer: claims.iss, jti: claims.jti, expiresAt: claims.exp });
  await writer.close();

  const variants = ["express", "fastify"].flatMap((framework) => [
    { framework, revocation: "off", label: `@meishi/${framework}` },
    {
      framework,
      revocation: "redis",
      label: `@meishi/${framework} + Redis revocation list (${fmt(PRELOAD + 1)} revoked)`,
    },
  ]);
  const samples = new Map(
    variants.map((v) => [v.label, { rps: [], p50: [], p99: [], cpuUsPerRequest: [] }]),
  );
  /** @type {Map<string, number[]>} with/without throughput ratio (from CPU per request) of each back-to-back pair */
  const pairRatios = new Map([
    ["express", []],
    ["fastify", []],
  ]);
  // Each round runs the two variants of a framework back to back (alternating which goes
  // first), so that drifting machine load hits both halves of a pair alike.
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const framework of ["express", "fastify"]) {
      const pair = variants.filter((v) => v.framework === framework);
      if (round % 2 === 1) pair.reverse();
      const cpu = {};
      for (const variant of pair) {
        cpu[variant.revocation] = await measureVariant(variant, round);
      }
      // Throughput of a saturated single-threaded server goes as 1 / CPU per request.
      pairRatios.get(framework).push(cpu.off / cpu.redis);
    }
  }

  /** @param {{ framework: string, revocation: string, label: string }} variant */
  async function measureVariant(variant, round) {
    const server = forkChild(
      "revocation-server.mjs",
      {
        ...env,
        FRAMEWORK: variant.framework,
        REVOCATION: variant.revocation,
        REDIS_URL: redisUrl,
        REDIS_NS: ns,
      },
      { pinToCpu: pinned ? 0 : undefined },
    );
    const { ready: port } = await server.first;
    try {
      if ((await get(port, good)) !== 200) throw new Error(`${variant.label}: good token refused`);
      const expected = variant.revocation === "redis" ? 401 : 200;
      if ((await get(port, revoked)) !== expected) {
        throw new Error(`${variant.label}: revoked token did not answer ${expected}`);
      }
      const run = (duration) =>
        autocannon({
          url: `http://127.0.0.1:${port}/me`,
          connections: CONNECTIONS,
          pipelining: 1,
          duration,
          headers: { authorization: `Bearer ${good}` },
        });
      await run(WARMUP);
      const cpuBefore = await cpuOf(server.child);
      const result = await run(DURATION);
      const cpuAfter = await cpuOf(server.child);
      const cpuUs = cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system;
      const s = samples.get(variant.label);
      s.rps.push(result.requests.average);
      s.p50.push(result.latency.p50);
      s.p99.push(result.latency.p99);
      s.cpuUsPerRequest.push(cpuUs / result.requests.total);
      console.log(
        `  round ${round + 1}/${ROUNDS} ${variant.label.padEnd(60)} ${fmt(result.requests.average).padStart(8)} req/s` +
          `  ${fmt(cpuUs / result.requests.total, 1)} µs CPU/request` +
          (result.non2xx > 0 ? `  non-2xx ${result.non2xx}` : ""),
      );
      return cpuUs / result.requests.total;
    } finally {
      await server.stop();
    }
  }
  return variants.map((v) => {
    const s = samples.get(v.label);
    return {
      ...v,
      rps: median(s.rps),
      p50: median(s.p50),
      p99: median(s.p99),
      perRound: s.rps,
      cpuUsPerRequest: median(s.cpuUsPerRequest),
      pairRatio: v.revocation === "redis" ? median(pairRatios.get(v.framework)) : undefined,
      pairRatios: v.revocation === "redis" ? pairRatios.get(v.framework) : undefined,
    };
  });
}

/**
 * `verifier.verify(token)` for one cached token, with and without the list, in this process:
 * sequential awaited calls, short interleaved rounds; the difference is the per-request cost.
 */
async function verifyCost(env, issuer, redisUrl, ns) {
  const list = createRedisRevocationList({ redis: redisUrl, namespace: ns });
  await list.ready();
  const base = { jwksUri: env.JWKS_URI, issuer: env.ISSUER, audience: env.AUDIENCE };
  const variants = [
    { name: "without", verifier: createVerifier(base) },
    { name: "with", verifier: createVerifier({ ...base, revocation: list }) },
  ];
  const token = await issuer.sign({ jti: randomUUID() }, { expiresInSec: 3600 });
  for (const v of variants) await v.verifier.verify(token);
  const rounds = quick ? 3 : 15;
  const ms = 300;
  const ops = new Map(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      let n = 0;
      const end = performance.now() + ms;
      while (performance.now() < end) {
        for (let i = 0; i < 100; i += 1) await v.verifier.verify(token);
        n += 100;
      }
      ops.get(v.name).push(n / (ms / 1000));
    }
  }
  const query = {
    issuer: env.ISSUER,
    jti: "not-revoked",
    sub: "someone",
    sid: undefined,
    issuedAt: Math.floor(Date.now() / 1000),
    expiresAt: Math.floor(Date.now() / 1000) + 60,
  };
  const lookups = 200_000;
  const started = performance.now();
  for (let i = 0; i < lookups; i += 1) list.isRevoked(query);
  const lookupNs = ((performance.now() - started) * 1e6) / lookups;
  await list.close();
  const without = median(ops.get("without"));
  const withList = median(ops.get("with"));
  return { without, with: withList, lookupNs, entries: PRELOAD + 1 };
}

async function propagation(env, issuer, redisUrl, ns) {
  const listeners = [0, 1].map(() =>
    forkChild("revocation-listener.mjs", { REDIS_URL: redisUrl, REDIS_NS: ns, ISSUER: env.ISSUER }),
  );
  await Promise.all(listeners.map((l) => l.first));
  const api = forkChild("revocation-server.mjs", {
    ...env,
    FRAMEWORK: "fastify",
    REVOCATION: "redis",
    REDIS_URL: redisUrl,
    REDIS_NS: ns,
  });
  const { ready: apiPort } = await api.first;
  const writer = createRedisRevocationList({ redis: redisUrl, namespace: ns });
  await writer.ready();

  const latencies = [];
  const writeMs = [];
  let refusedAtOnce = 0;
  for (let i = 0; i < SAMPLES; i += 1) {
    const jti = `prop-${i}-${randomUUID()}`;
    const token = await issuer.sign({ jti }, { expiresInSec: 600 });
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    if ((await get(apiPort, token)) !== 200) throw new Error("propagation: token refused early");
    const seen = listeners.map(
      (l) =>
        new Promise((resolve) => {
          const onMessage = (message) => {
            if (message?.jti !== jti) return;
            l.child.off("message", onMessage);
            resolve(message.at);
          };
          l.child.on("message", onMessage);
        }),
    );
    for (const l of listeners) l.child.send({ jti, expiresAt });
    await new Promise((resolve) => setTimeout(resolve, 2));
    const t0 = performance.timeOrigin + performance.now();
    await writer.revokeToken({ issuer: env.ISSUER, jti, expiresAt });
    const t1 = performance.timeOrigin + performance.now();
    // One request to another process right after the revoke resolved.
    if ((await get(apiPort, token)) === 401) refusedAtOnce += 1;
    for (const at of await Promise.all(seen)) latencies.push(at - t0);
    writeMs.push(t1 - t0);
  }
  await writer.close();
  for (const l of listeners) l.child.send("stop");
  await Promise.all([...listeners.map((l) => l.stop()), api.stop()]);
  return {
    samples: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
    writeP50: percentile(writeMs, 50),
    writeP99: percentile(writeMs, 99),
    refusedAtOnce,
    requests: SAMPLES,
  };
}

async function memory(redis, redisUrl, issuerName) {
  const ns = `bench-memory-${randomUUID()}`;
  const started = performance.now();
  await preload(redis, ns, issuerName, ENTRIES);
  const preloadMs = performance.now() - started;
  const usedMemory = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
  const child = forkChild(
    "revocation-memory.mjs",
    { REDIS_URL: redisUrl, REDIS_NS: ns, ISSUER: issuerName },
    { execArgv: ["--expose-gc"] },
  );
  const result = await child.first;
  await child.stop();
  await redis.del(`{${ns}}:tokens`);
  return { ...result, preloadMs, redisUsedMemoryMiB: usedMemory / 2 ** 20 };
}

async function main() {
  const startedAt = new Date();
  const loadAtStart = machine().loadavg;
  const { url: redisUrl, version } = await startRedis();
  const redis = new Redis(redisUrl);
  onCleanup(() => redis.disconnect());
  const issuer = await createTestIssuer();
  onCleanup(() => issuer.close());
  const env = {
    JWKS_URI: issuer.jwksUri,
    ISSUER: issuer.issuer,
    AUDIENCE: String(issuer.audience),
  };

  const results = {};
  if (part("memory")) {
    console.log(`memory: ${fmt(ENTRIES)} revoked jtis in one local copy`);
    const mem = await memory(redis, redisUrl, issuer.issuer);
    console.log(
      `  RSS ${fmt(mem.before.rssMiB, 1)} → ${fmt(mem.after.rssMiB, 1)} MiB, ` +
        `heap ${fmt(mem.before.heapMiB, 1)} → ${fmt(mem.after.heapMiB, 1)} MiB, load ${fmt(mem.loadMs)} ms, ` +
        `${fmt(mem.lookupsPerSec)} lookups/s`,
    );
    results.mem = mem;
  }

  const ns = `bench-${randomUUID()}`;
  await preload(redis, ns, issuer.issuer, PRELOAD);
  if (part("propagation")) {
    console.log(`propagation: ${SAMPLES} revocations, 2 listening processes + 1 API`);
    results.prop = await propagation(env, issuer, redisUrl, ns);
    console.log(`  p50 ${fmt(results.prop.p50, 2)} ms, p99 ${fmt(results.prop.p99, 2)} ms`);
  }
  if (part("cost")) {
    console.log("verify cost: verifier.verify() with and without the list, in process");
    results.cost = await verifyCost(env, issuer, redisUrl, ns);
    console.log(
      `  ${fmt(results.cost.without)} → ${fmt(results.cost.with)} verifies/s, ` +
        `lookup ${fmt(results.cost.lookupNs)} ns`,
    );
  }
  if (part("throughput")) {
    console.log(`throughput: ${ROUNDS} round(s) × ${DURATION} s, ${CONNECTIONS} connections`);
    results.rows = await throughput(env, issuer, redisUrl, ns);
  }
  if (only !== undefined) return;
  const { rows, prop, mem, cost } = results;

  const markdown = report({ rows, prop, mem, cost, startedAt, loadAtStart, version });
  console.log(`\n${markdown}`);
  const { jsonPath, mdPath } = writeResults(
    `revocation-${today()}${quick ? "-quick" : ""}`,
    {
      kind: "revocation",
      date: startedAt.toISOString(),
      command: commandLine(),
      redis: version,
      settings: {
        duration: DURATION,
        rounds: ROUNDS,
        connections: CONNECTIONS,
        samples: SAMPLES,
        entries: ENTRIES,
        preload: PRELOAD,
      },
      machine: { ...machine(), loadavgAtStart: loadAtStart },
      throughput: rows.map((r) => ({
        label: r.label,
        medianRps: Math.round(r.rps),
        medianP50Ms: r.p50,
        medianP99Ms: r.p99,
        rpsPerRound: r.perRound.map(Math.round),
        medianCpuUsPerRequest: r.cpuUsPerRequest,
        capacityRatiosFromCpu: r.pairRatios ?? null,
      })),
      propagation: prop,
      memory: mem,
      verifyCost: cost,
    },
    markdown,
  );
  console.log(`\nwrote ${jsonPath}\nwrote ${mdPath}`);
}

function report({ rows, prop, mem, cost, startedAt, loadAtStart, version }) {
  const m = machine();
  const perEntry = ((mem.after.rssMiB - mem.before.rssMiB) * 2 ** 20) / mem.entries;
  const throughputRows = rows.map((r) => {
    const base = rows.find((b) => b.framework === r.framework && b.revocation === "off");
    return [
      r.label,
      fmt(r.rps),
      fmt(r.p50),
      fmt(r.p99),
      fmt(r.cpuUsPerRequest, 1),
      r === base ? "—" : `${fmt((100 * r.rps) / base.rps, 1)} %`,
      r.pairRatio === undefined ? "—" : `${fmt(100 * r.pairRatio, 1)} %`,
    ];
  });
  return [
    `### Revocation over Redis — ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Command: \`${commandLine()}\` — redis-server ${version} on loopback (persistence off). ` +
      `Node ${m.node}, ${m.cores} × ${m.cpu}; load average ${loadAtStart[0]} at start, ${m.loadavg[0]} at end.`,
    "",
    `**Throughput** (${ROUNDS} round(s) × ${DURATION} s per variant after a ${WARMUP} s warm-up, ${CONNECTIONS} connections, ` +
      "the same valid RS256 token on every request, so the verified-token cache answers and the revocation " +
      "lookup is most of what differs; medians over rounds):",
    "",
    table(
      [
        "variant",
        "req/s",
        "p50 ms",
        "p99 ms",
        "server CPU µs/request",
        "req/s vs without",
        "capacity vs without (CPU, median of pairs)",
      ],
      throughputRows,
      ["l", "r", "r", "r", "r", "r", "r"],
    ),
    "",
    "`server CPU µs/request`: user + system CPU time of the server process over the measured seconds, divided by the requests it answered. " +
      "`capacity vs without`: each round measures the two variants of a framework back to back; for each pair, CPU per request without ÷ with " +
      "(the throughput ratio of a saturated single-threaded server), median over rounds. Other load on the machine slows wall time more than it " +
      "changes the CPU a request needs, but at a high load average both move.",
    "",
    `**Per-request cost, in process** (\`verifier.verify(token)\` for one cached token, sequential awaited calls, ` +
      `interleaved 300 ms rounds, medians; the list holds ${fmt(cost.entries)} revoked jtis):`,
    "",
    table(
      ["measure", "value"],
      [
        ["verifies/s without the list", fmt(cost.without)],
        ["verifies/s with the Redis list", fmt(cost.with)],
        ["with / without", `${fmt((100 * cost.with) / cost.without, 1)} %`],
        ["added per request", `${fmt(1e9 / cost.with - 1e9 / cost.without)} ns`],
        ["one `isRevoked` lookup (not revoked)", `${fmt(cost.lookupNs)} ns`],
      ],
      ["l", "r"],
    ),
    "",
    `**Propagation** (${prop.samples} measurements: ${SAMPLES} revocations × 2 listening processes): ` +
      "time from calling `revokeToken` in one process to another process's local copy refusing the jti.",
    "",
    table(
      ["measure", "p50 ms", "p99 ms", "max ms"],
      [
        [
          "revoke → refused in another process",
          fmt(prop.p50, 2),
          fmt(prop.p99, 2),
          fmt(prop.max, 2),
        ],
        ["`revokeToken` resolves (Redis write)", fmt(prop.writeP50, 2), fmt(prop.writeP99, 2), "—"],
      ],
      ["l", "r", "r", "r"],
    ),
    "",
    `A request sent to a third process (an HTTP API) right after \`revokeToken\` resolved was refused ` +
      `${prop.refusedAtOnce} times out of ${prop.requests}.`,
    "",
    `**Memory** (${fmt(mem.entries)} revoked jtis loaded into one process's local copy, fresh process, after a forced GC):`,
    "",
    table(
      ["measure", "value"],
      [
        ["RSS before → after", `${fmt(mem.before.rssMiB, 1)} → ${fmt(mem.after.rssMiB, 1)} MiB`],
        ["heap before → after", `${fmt(mem.before.heapMiB, 1)} → ${fmt(mem.after.heapMiB, 1)} MiB`],
        ["RSS per entry", `${fmt(perEntry)} bytes`],
        ["full load from Redis", `${fmt(mem.loadMs)} ms`],
        ["lookups against the full copy", `${fmt(mem.lookupsPerSec)} per s`],
        ["Redis used_memory with the set", `${fmt(mem.redisUsedMemoryMiB, 1)} MiB`],
      ],
      ["l", "r"],
    ),
  ].join("\n");
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(cleanup);
