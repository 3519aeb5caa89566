import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, "..", "..");
const bin = (name: string) => join(packageRoot, "node_modules", ".bin", name);

/** A runtime serving the harness (see harness-server.ts) on a loopback port. */
export interface RunningRuntime {
  /** e.g. `http://127.0.0.1:41234` */
  origin: string;
  stop(): Promise<void>;
}

export interface Runtime {
  name: "workerd" | "bun" | "deno";
  start(): Promise<RunningRuntime>;
}

/**
 * workerd through Miniflare. workerd loads one module graph with no node_modules lookup, so the
 * app is bundled first, with the conditions Cloudflare's own tooling uses (`workerd`, `worker`,
 * `browser`): `@meishi/core` resolves to its portable entry, as in a deployed Worker.
 */
export const workerd: Runtime = {
  name: "workerd",
  async start() {
    const dir = await mkdtemp(join(tmpdir(), "meishi-workerd-"));
    const scriptPath = join(dir, "worker.js");
    await build({
      entryPoints: [join(here, "workerd-entry.ts")],
      outfile: scriptPath,
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["workerd", "worker", "browser"],
      target: "es2022",
      logLevel: "silent",
    });
    const mf = new Miniflare({
      modules: true,
      scriptPath,
      // Module names are paths relative to this root; workerd refuses names with "..".
      modulesRoot: dir,
      compatibilityDate: "2025-09-01",
      host: "127.0.0.1",
      port: 0,
    });
    const url = await mf.ready;
    return {
      origin: url.origin,
      async stop() {
        await mf.dispose();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Bun runs the TypeScript entry itself and resolves the workspace packages from node_modules. */
export const bun: Runtime = {
  name: "bun",
  start: () => spawnServer(bin("bun"), ["run", join(here, "bun-entry.ts")]),
};

/**
 * Deno runs the TypeScript entry itself, resolving npm packages from node_modules;
 * `--sloppy-imports` maps the `.js` specifiers of our TypeScript sources to their `.ts` files.
 */
export const deno: Runtime = {
  name: "deno",
  start: () =>
    spawnServer(
      bin("deno"),
      [
        "run",
        "--quiet",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-env",
        "--allow-sys",
        "--sloppy-imports",
        "--no-check",
        join(here, "deno-entry.ts"),
      ],
      { DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" },
    ),
};

export const runtimes: readonly Runtime[] = [workerd, bun, deno];

function spawnServer(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<RunningRuntime> {
  // node_modules/.bin holds shell wrappers: the runtime is their child. A process group of its
  // own lets stop() end both, and the exit hook keeps a crashed test run from leaving it behind.
  const child = spawn(command, args, {
    cwd: packageRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const killGroup = () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
  };
  process.once("exit", killGroup);
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening (\d+)/.exec(output)?.[1];
      if (port === undefined) return;
      child.stdout?.off("data", onData);
      // Keep draining both pipes so a chatty runtime never blocks on a full pipe.
      child.stdout?.resume();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        stop: () => {
          process.off("exit", killGroup);
          return stopChild(child, killGroup);
        },
      });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      process.off("exit", killGroup);
      reject(new Error(`${command} exited with ${code}: ${output}`));
    });
  });
}

function stopChild(child: ChildProcess, killGroup: () => void): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    killGroup();
  });
}
