// Server CPU per request, the steady figure on a shared machine: autocannon sends a fixed number
// of requests and the server reports its own CPU time (user + system) around them. A framework's
// three variants (bare, a no-op middleware, meishi) are three paths of ONE server process
// (servers/<framework>-paths.mjs): two identical servers in two processes measured up to
// 2.5 µs/request apart on this machine, more than the differences being measured. Rounds
// alternate the order of the paths.
//
//   node cpu.mjs [--only=<substring>]
//   env: BENCH_CPU_REQUESTS (per round, default 20000), BENCH_ROUNDS (default 3),
//        BENCH_CONNECTIONS (default 50), BENCH_CPU_PROFILE=1 (write .cpuprofile files)
import { createTestIssuer } from "@meishi/testing";
import {
  cannonPath,
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

const REQUESTS = Number(process.env.BENCH_CPU_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice(7);
// Server on core 0, this process (autocannon) on core 1; BENCH_PIN=0 turns it off.
const PIN = pinThisProcess(1);

const FRAMEWORKS = ["express", "koa", "fastify"];
const VARIANTS = FRAMEWORKS.flatMap((framework) => [
  { framework, name: `${framework}-bare`, path: "/bare", label: "bare (no auth)" },
  { framework, name: `${framework}-noop`, path: "/noop", label: "bare + a no-op middleware" },
  { framework, name: `${framework}-meishi`, path: "/me", label: "meishi, same token (cache hit)" },
]).filter((variant) => only === undefined || variant.name.includes(only));

async function main() {
  const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
  onCleanup(() => issuer.close());
  const token = await issuer.sign({ sub: "bench", role: "standard user" });
  const env = serverEnv(issuer);
  const servers = new Map();
  for (const framework of new Set(VARIANTS.map((variant) => variant.framework))) {
    const server = await startServer(`${framework}-paths`, env, 15_000, PIN ? 0 : undefined);
    onCleanup(server.stop);
    servers.set(framework, server);
  }
  // Warm-up: JIT, keys, verified-token cache.
  for (const variant of VARIANTS) {
    await cannonPath(servers.get(variant.framework).port, variant.path, token, {
      connections: CONNECTIONS,
      amount: 5_000,
    });
  }
  /** @type {Map<string, number[]>} */
  const samples = new Map(VARIANTS.map((variant) => [variant.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // A framework's variants run back to back, in reverse order every other round: the machine's
    // load drifts over tens of seconds, so it hits the members of a round alike, and the
    // per-round differences below are steadier than a difference of medians.
    const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      const server = servers.get(variant.framework);
      const before = await serverCpuMicros(server.child);
      const result = await cannonPath(server.port, variant.path, token, {
        connections: CONNECTIONS,
        amount: REQUESTS,
      });
      const after = await serverCpuMicros(server.child);
      const ok = result["2xx"];
      if (ok !== REQUESTS) throw new Error(`${variant.name}: ${ok} of ${REQUESTS} answered 2xx`);
      samples.get(variant.name).push((after - before) / REQUESTS);
      console.log(
        `round ${round + 1} ${variant.name}: ${fmt((after - before) / REQUESTS, 1)} µs/request`,
      );
    }
  }
  const rows = [];
  const json = {
    date: today(),
    command: commandLine(),
    machine: machine(),
    requests: REQUESTS,
    rounds: ROUNDS,
    rows: [],
  };
  for (const framework of FRAMEWORKS) {
    const bare = samples.get(`${framework}-bare`);
    const noop = samples.get(`${framework}-noop`);
    const meishi = samples.get(`${framework}-meishi`);
    if (!bare?.length || !noop?.length || !meishi?.length) continue;
    const bareMedian = median(bare);
    const noopMedian = median(noop);
    const meishiMedian = median(meishi);
    const overBare = median(meishi.map((value, round) => value - bare[round]));
    const overNoop = median(meishi.map((value, round) => value - noop[round]));
    const spread = (values) => `${fmt(Math.min(...values), 1)}–${fmt(Math.max(...values), 1)}`;
    rows.push([
      framework,
      `${fmt(bareMedian, 1)} (${spread(bare)})`,
      `${fmt(noopMedian, 1)} (${spread(noop)})`,
      `${fmt(meishiMedian, 1)} (${spread(meishi)})`,
      fmt(overBare, 1),
      fmt(overNoop, 1),
    ]);
    json.rows.push({
      framework,
      bareUs: bare,
      noopMiddlewareUs: noop,
      meishiUs: meishi,
      overBareUsMedianOfRounds: overBare,
      overNoopUsMedianOfRounds: overNoop,
    });
  }
  const markdown = [
    `# Server CPU per request, ${today()}`,
    "",
    `\`${commandLine()}\`: ${fmt(REQUESTS)} requests × ${ROUNDS} rounds per variant, ${CONNECTIONS} connections, one RS256 token (verified-token cache hit)${PIN ? "; server pinned to core 0, load generator to core 1" : ""}. A framework's variants are three paths of one server process (servers/<framework>-paths.mjs). Medians, range in brackets; the differences are the median of each round's difference (a framework's variants run back to back).`,
    "",
    table(
      [
        "framework",
        "bare µs/req",
        "bare + no-op middleware µs/req",
        "meishi µs/req",
        "meishi over bare (µs, median of rounds)",
        "meishi over the no-op (µs, median of rounds)",
      ],
      rows,
      ["l", "r", "r", "r", "r", "r"],
    ),
    "",
    "The no-op middleware only attaches a value to the request the way an auth middleware must " +
      "(an Express route middleware, a Koa middleware, a Fastify `onRequest` hook): what the " +
      "framework charges for any middleware. Over it is meishi's own cost.",
  ].join("\n");
  console.log(`\n${markdown}`);
  if (only === undefined) writeResults(`cpu-${today()}`, json, markdown);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
