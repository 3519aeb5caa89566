// Helpers shared by the bench scripts: child servers, statistics, tables and result files.
import { fork, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = join(BENCH_DIR, "results");

/** @type {Set<import("node:child_process").ChildProcess>} */
const children = new Set();
/** @type {Array<() => Promise<unknown> | unknown>} */
const cleanups = [];
let cleaningUp = false;

/** Register something to close at the end, on error and on Ctrl-C. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** Close everything registered and kill every child still running. Idempotent. */
export async function cleanup() {
  if (cleaningUp) return;
  cleaningUp = true;
  // The registered stops first: a server stopped with SIGTERM exits cleanly (and writes its CPU
  // profile when asked to); whatever is still running after them is killed.
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {
      // best effort: the process is ending
    }
  }
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}

// The 'exit' handler can only do synchronous work: kill the children. Signals run the full
// cleanup, then exit with the conventional code.
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    cleanup().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}

/**
 * Node flags for a bench server: with BENCH_CPU_PROFILE=1 each server writes a V8 CPU profile
 * (open it in Chrome DevTools) to results/profiles/ when it exits.
 * @returns {string[]}
 */
export function profileArgs() {
  if (process.env.BENCH_CPU_PROFILE !== "1") return [];
  return ["--cpu-prof", `--cpu-prof-dir=${join(RESULTS_DIR, "profiles")}`];
}

/**
 * Pin this process (the load generator) to one core with taskset, so that a server pinned to
 * the other has a core of its own. False where taskset is missing or BENCH_PIN=0.
 * @param {number} cpu
 */
export function pinThisProcess(cpu) {
  return (
    process.env.BENCH_PIN !== "0" &&
    spawnSync("taskset", ["-cp", String(cpu), String(process.pid)]).status === 0
  );
}

/**
 * fork() options that run a child pinned to a core (through taskset) when `pinToCpu` is given,
 * with the profiling flags when asked for.
 * @param {number | undefined} pinToCpu
 * @param {string[]} [execArgv]
 */
export function forkPlacement(pinToCpu, execArgv = []) {
  const nodeArgs = [...execArgv, ...profileArgs()];
  if (pinToCpu === undefined || process.env.BENCH_PIN === "0") return { execArgv: nodeArgs };
  return {
    execPath: "taskset",
    execArgv: ["-c", String(pinToCpu), process.execPath, ...nodeArgs],
  };
}

/**
 * Fork bench/servers/<name>.mjs with the issuer settings in its environment and wait for it
 * to say "ready <port>".
 * @param {string} name
 * @param {Record<string, string>} env
 * @param {number} [timeoutMs]
 * @param {number} [pinToCpu]
 * @param {string[]} [execArgv] extra Node flags for the server (e.g. a CPU profile of its own)
 * @returns {Promise<{ port: number, stop: () => Promise<void>, child: import("node:child_process").ChildProcess }>}
 */
export function startServer(name, env, timeoutMs = 15_000, pinToCpu, execArgv = []) {
  const file = join(BENCH_DIR, "servers", `${name}.mjs`);
  // Pinned (taskset), the server has a core of its own and the load generator the other, so a
  // server's CPU time is not inflated by sharing a core with autocannon.
  const child = fork(file, [], {
    ...forkPlacement(pinToCpu, execArgv),
    env: { ...process.env, PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  children.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.stdout?.resume();
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        children.delete(child);
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      child.once("exit", () => {
        clearTimeout(timer);
        children.delete(child);
        resolve();
      });
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${name}: not ready after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once("message", (message) => {
      clearTimeout(timer);
      resolve({ port: message.ready, stop, child });
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`${name}: exited (${code ?? signal}) before ready\n${stderr}`));
    });
  });
}

/** @param {number[]} values */
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Format a number with thousands separators and the given decimals. */
export function fmt(value, decimals = 0) {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** "1.23×" */
export function ratio(a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "n/a";
  return `${(a / b).toFixed(2)}×`;
}

/**
 * A GitHub-flavoured markdown table.
 * @param {string[]} header
 * @param {Array<Array<string | number>>} rows
 * @param {Array<"l" | "r">} [align]
 */
export function table(header, rows, align = []) {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => row[i]?.length ?? 0)));
  const pad = (text, i) => (align[i] === "r" ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const sep = widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  const line = (row) => `| ${row.map(pad).join(" | ")} |`;
  return [line(cells[0]), `| ${sep.join(" | ")} |`, ...cells.slice(1).map(line)].join("\n");
}

/** What the numbers were measured on. */
export function machine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
}

/** UTC date as YYYY-MM-DD. */
export function today() {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Write results/<base>.json and results/<base>.md; returns their paths.
 * @param {string} base
 * @param {unknown} json
 * @param {string} markdown
 */
export function writeResults(base, json, markdown) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonPath = join(RESULTS_DIR, `${base}.json`);
  const mdPath = join(RESULTS_DIR, `${base}.md`);
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(mdPath, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  // The repository lints every file with Biome; format the reports the same way so committing
  // them keeps `pnpm test` green. Best effort: the files are valid either way.
  const biome = join(BENCH_DIR, "..", "node_modules", ".bin", "biome");
  if (existsSync(biome)) {
    spawnSync(biome, ["format", "--write", jsonPath, mdPath], { stdio: "ignore" });
  }
  return { jsonPath, mdPath };
}

/** The exact command line, for the reports. */
export function commandLine() {
  const script = process.argv[1] ? process.argv[1].slice(BENCH_DIR.length + 1) : "";
  const vars = Object.entries(process.env)
    .filter(([key]) => key.startsWith("BENCH_"))
    .map(([key, value]) => `${key}=${value} `)
    .join("");
  return `${vars}node ${[script, ...process.argv.slice(2)].join(" ")}`.trim();
}

/**
 * autocannon against `/me` with a token chosen per request (realistic traffic, first sight of
 * every token); resolves with autocannon's result.
 * @param {number} port
 * @param {() => string} pickToken
 * @param {{ connections: number } & ({ duration: number } | { amount: number })} length
 */
export async function cannonWithTokens(port, pickToken, length) {
  const { default: autocannon } = await import("autocannon");
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/me`,
        ...length,
        requests: [
          {
            setupRequest: (request) => {
              request.headers = { ...request.headers, authorization: `Bearer ${pickToken()}` };
              return request;
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    onCleanup(() => instance.stop?.());
  });
}

/**
 * Sends `message` to a bench server over IPC (servers/_common.mjs) and resolves with the value
 * under `answerKey` of the first answer that has one; rejects when that value carries `error`.
 * @param {import("node:child_process").ChildProcess} child
 * @param {object} message
 * @param {string} answerKey
 */
export function askServer(child, message, answerKey) {
  return new Promise((resolve, reject) => {
    const onMessage = (answer) => {
      const value = answer?.[answerKey];
      if (value === undefined) return;
      child.off("message", onMessage);
      if (value.error) reject(new Error(value.error));
      else resolve(value);
    };
    child.on("message", onMessage);
    child.send(message);
  });
}

/**
 * A bench server's own CPU time so far (user + system, µs): around a run it gives server CPU
 * per request, blind to the load generator.
 * @param {import("node:child_process").ChildProcess} child
 * @returns {Promise<number>}
 */
export async function serverCpuMicros(child) {
  const cpu = await askServer(child, { cpu: true }, "cpu");
  return cpu.user + cpu.system;
}

/**
 * autocannon sending `amount` requests to `path` with one bearer token; rejects on an error or
 * any answer that is not 2xx (a refusal would mean a broken row, not a fast one).
 * @param {number} port
 * @param {string} path
 * @param {string} token
 * @param {{ connections: number, amount: number }} length
 */
export async function cannonPath(port, path, token, { connections, amount }) {
  const { default: autocannon } = await import("autocannon");
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}${path}`,
        connections,
        amount,
        headers: { authorization: `Bearer ${token}` },
      },
      (error, result) => {
        if (error) reject(error);
        else if (result.non2xx > 0 || result.errors > 0)
          reject(new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`));
        else resolve(result);
      },
    );
    onCleanup(() => instance.stop?.());
  });
}

/**
 * The environment a bench server reads its issuer settings from (servers/_common.mjs).
 * @param {{ jwksUri: string, issuer: string, audience: string }} issuer
 */
export function serverEnv(issuer) {
  return { JWKS_URI: issuer.jwksUri, ISSUER: issuer.issuer, AUDIENCE: issuer.audience };
}

/**
 * Each framework with those of its servers that `--only=<substring>` keeps (naming the
 * framework keeps all of them); frameworks left with none are dropped.
 * @param {Record<string, string[]>} byFramework
 * @param {string | undefined} only
 * @returns {[string, string[]][]}
 */
export function chosenServers(byFramework, only) {
  return Object.entries(byFramework)
    .map(([framework, names]) => [
      framework,
      names.filter((name) => only === undefined || name.includes(only) || framework.includes(only)),
    ])
    .filter(([, names]) => names.length > 0);
}
