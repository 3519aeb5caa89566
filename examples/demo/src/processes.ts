import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A service the demo started; its output is kept to explain a failure. */
export interface Service {
  readonly name: string;
  readonly url: string;
  output(): string;
}

const children = new Set<ChildProcess>();

function stopAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
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
