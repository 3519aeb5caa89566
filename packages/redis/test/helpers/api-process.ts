import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const SERVER = fileURLToPath(new URL("../fixtures/api-server.mjs", import.meta.url));

/** The fixture API running in another OS process. */
export interface ApiProcess {
  readonly port: number;
  get(token: string): Promise<{ status: number; headers: Headers; body: string }>;
  stop(): Promise<void>;
}

export function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child: ChildProcess = spawn(process.execPath, [SERVER], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`API process did not start:\n${output}`));
    }, 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`API process exited with ${code}:\n${output}`));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      const match = /ready (\d+)/.exec(chunk.toString());
      if (match === null) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      const port = Number(match[1]);
      resolve({
        port,
        async get(token) {
          const res = await fetch(`http://127.0.0.1:${port}/me`, {
            headers: { authorization: `Bearer ${token}` },
          });
          return { status: res.status, headers: res.headers, body: await res.text() };
        },
        stop() {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
          return new Promise((done) => {
            child.once("exit", () => done());
            child.kill("SIGKILL");
          });
        },
      });
    });
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
