import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { login, omochi } from "./helpers.js";

const entry = fileURLToPath(new URL("../dist/server.js", import.meta.url));

function run(env: Record<string, string>): ChildProcess {
  if (!existsSync(entry)) throw new Error("dist/server.js is missing: run `pnpm build` first");
  return spawn(process.execPath, [entry], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function firstLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(pattern);
      if (match) resolve(match);
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

describe("node dist/server.js", () => {
  it("logs its URL on one line, serves, and exits 0 on SIGTERM", async () => {
    const child = run({ PORT: "0", ACCESS_TOKEN_TTL_SEC: "120" });
    try {
      const [, url] = await firstLine(
        child,
        /^auth-server listening on (http:\/\/127\.0\.0\.1:\d+)$/m,
      );
      const tokens = await login(url!, omochi.username, omochi.password);
      expect(tokens.expires_in).toBe(120);
      child.kill("SIGTERM");
      expect(await exitCode(child)).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("exits 0 on SIGINT too", async () => {
    const child = run({ PORT: "0" });
    try {
      await firstLine(child, /listening on/);
      child.kill("SIGINT");
      expect(await exitCode(child)).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("refuses a bad setting with a message and exit code 1", async () => {
    const child = run({ PORT: "0", ACCESS_TOKEN_TTL_SEC: "five minutes" });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    expect(await exitCode(child)).toBe(1);
    expect(stderr).toContain("ACCESS_TOKEN_TTL_SEC must be an integer");
  });
});
