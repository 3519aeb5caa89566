// Cold and warm invocation cost of @meishi/lambda's TOKEN authorizer, each cold start in a
// fresh Node process (as a new Lambda execution environment is), against a local JWKS.
//
//   node lambda.mjs [--quick]
//   env: BENCH_LAMBDA_COLD (cold starts per mode, default 15), BENCH_LAMBDA_WARM (warm calls, default 500)
//
// Modes: "fetch" (the keys are fetched on the first event), "seeded" (a snapshot from
// `meishi jwks --snapshot` seeds the remote source, no fetch while it is fresh) and "offline"
// (the snapshot is the key set). The JWKS is on loopback, so "fetch" here is a floor: a real
// IdP adds its network round trip (tens to hundreds of ms) to every cold start in that mode.
import { fork } from "node:child_process";
import { join } from "node:path";
import { createRemoteKeySource } from "@meishi/core";
import { createTestIssuer } from "@meishi/testing";
import {
  BENCH_DIR,
  cleanup,
  commandLine,
  fmt,
  machine,
  median,
  onCleanup,
  table,
  today,
  writeResults,
} from "./lib.mjs";

const quick = process.argv.includes("--quick");
const COLD = quick ? 3 : Number(process.env.BENCH_LAMBDA_COLD ?? 15);
const WARM = quick ? 100 : Number(process.env.BENCH_LAMBDA_WARM ?? 500);
const MODES = ["fetch", "seeded", "offline"];

/** One cold start in a child process; resolves to its timings and the JWKS requests it made. */
function coldStart(issuer, mode, snapshot, tokens) {
  const before = issuer.requests.jwks;
  return new Promise((resolve, reject) => {
    const child = fork(join(BENCH_DIR, "lambda-cold-child.mjs"), [], {
      env: {
        ...process.env,
        MODE: mode,
        JWKS_URI: issuer.jwksUri,
        ISSUER: issuer.issuer,
        AUDIENCE: issuer.audience,
        SNAPSHOT: snapshot,
      },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    onCleanup(() => child.kill("SIGKILL"));
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("message", (message) => {
      if (message.ready) child.send({ tokens, warmCalls: WARM });
      else resolve({ ...message, fetches: issuer.requests.jwks - before });
    });
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`cold start (${mode}) exited ${code}\n${stderr}`));
    });
  });
}

async function main() {
  const startedAt = new Date();
  const issuer = await createTestIssuer({ cacheControl: "public, max-age=3600" });
  onCleanup(() => issuer.close());
  const source = createRemoteKeySource({ jwksUri: issuer.jwksUri });
  await source.ready();
  const snapshot = JSON.stringify(source.snapshot());
  const tokens = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      issuer.sign({ sub: `user-${i}` }, { expiresInSec: 3600 }),
    ),
  );

  const samples = Object.fromEntries(MODES.map((mode) => [mode, []]));
  // Interleave the modes so a noisy moment on the shared machine hits all of them alike.
  for (let round = 0; round < COLD; round++) {
    for (const mode of MODES) samples[mode].push(await coldStart(issuer, mode, snapshot, tokens));
  }
  const rows = MODES.map((mode) => {
    const s = samples[mode];
    const pick = (key) => median(s.map((sample) => sample[key]));
    return {
      mode,
      importMs: pick("tImport"),
      initMs: pick("tInit"),
      firstEventMs: pick("tFirst"),
      warmNewTokenUs: pick("warmNewUs"),
      warmSameTokenUs: pick("warmSameUs"),
      fetchesPerColdStart: pick("fetches"),
    };
  });
  const m = machine();
  const markdown = [
    `### Lambda authorizer cold and warm cost — ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Command: \`${commandLine()}\` — ${COLD} cold starts per mode (a fresh Node process each), ` +
      `then ${WARM} warm events each with new tokens and with one repeated token; RS256 (2048-bit), ` +
      `TOKEN authorizer, JWKS on loopback. Node ${m.node}, ${m.cores} × ${m.cpu}. Medians.`,
    "",
    table(
      [
        "mode",
        "import (ms)",
        "init (ms)",
        "first event (ms)",
        "warm, new token (µs)",
        "warm, same token (µs)",
        "JWKS fetches per cold start",
      ],
      rows.map((r) => [
        r.mode,
        fmt(r.importMs, 1),
        fmt(r.initMs, 2),
        fmt(r.firstEventMs, 1),
        fmt(r.warmNewTokenUs),
        fmt(r.warmSameTokenUs),
        fmt(r.fetchesPerColdStart),
      ]),
      ["l", "r", "r", "r", "r", "r", "r"],
    ),
    "",
    '"first event" is the cold invocation after module load; in "fetch" mode it includes the ' +
      "loopback JWKS fetch, so with a real IdP add its round trip. A snapshot removes that fetch.",
  ].join("\n");
  console.log(`\n${markdown}`);
  const { jsonPath, mdPath } = writeResults(
    `lambda-${today()}${quick ? "-quick" : ""}`,
    {
      kind: "lambda",
      date: startedAt.toISOString(),
      command: commandLine(),
      settings: { cold: COLD, warm: WARM },
      machine: m,
      rows,
    },
    markdown,
  );
  console.log(`\nwrote ${jsonPath}\nwrote ${mdPath}`);
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
