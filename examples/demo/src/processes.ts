import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** A service the demo started; its output is kept to explain a failure. */
export interface Service {
  readonly name: string;
  readonly url: string;
  output(): string;
}

const children = new Set<ChildProcess>();
const temporaryDirectories = new Set<string>();

function stopAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  for (const directory of temporaryDirectories) rmSync(directory, { recursive: true, force: true });
}

// Whatever ends the demo — success, a failed step, Ctrl-C, a crash — no process is left behind.
process.on("exit", stopAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`not up after waiting for ${url}`);
}

/** Starts `node <script>` with env and waits until `readyUrl` answers. */
export async function startService(
  name: string,
  script: string,
  env: Record<string, string>,
  url: string,
  readyUrl: string,
): Promise<Service> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    await waitUntilUp(readyUrl, child, Date.now() + 15_000);
  } catch (error) {
    throw new Error(`${name} did not start: ${(error as Error).message}\n${output}`);
  }
  return { name, url, output: () => output };
}

function onPath(command: string): string | undefined {
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    if (directory === "") continue;
    const candidate = join(directory, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here: try the next directory.
    }
  }
  return undefined;
}

/** Where the demo's Redis is, and who started it. */
export interface RedisForDemo {
  readonly url: string;
  readonly source: "REDIS_URL" | "redis-server";
}

/**
 * `REDIS_URL` if set; else a throwaway `redis-server` from the PATH on a free loopback port,
 * with no persistence and its own temp directory, stopped with the other processes; else
 * undefined (the demo skips the kill switch).
 */
export async function startRedis(): Promise<RedisForDemo | undefined> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== "") return { url: fromEnv, source: "REDIS_URL" };
  const binary = onPath("redis-server");
  if (binary === undefined) return undefined;
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), "meishi-demo-redis-"));
  temporaryDirectories.add(directory);
  const child = spawn(
    binary,
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
      directory,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      10_000,
    );
    const watch = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", watch);
    child.stderr?.on("data", watch);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}:\n${output}`));
    });
  });
  return { url: `redis://127.0.0.1:${port}`, source: "redis-server" };
}
