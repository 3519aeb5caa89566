import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const demo = new URL("../dist/demo.js", import.meta.url).pathname;

function hasRedisServer(directory: string): boolean {
  try {
    accessSync(join(directory, "redis-server"), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const path = (process.env.PATH ?? "").split(delimiter);
// CI installs redis-server (.ci/run), so there the kill switch must run, not be skipped.
const redisAvailable =
  (process.env.REDIS_URL ?? "") !== "" || path.some((directory) => hasRedisServer(directory));

const everyStep = [
  "1. omochi logs in",
  "2. The same card works at every API",
  "3. /admin is for role",
  "4. A forged card",
  "5. Key rotation",
  "6. Refresh",
  "7. Logout",
  "8. DPoP",
  "All steps behaved.",
];
const skipped = "Skipped the kill switch";
/** One line per API per revocation: "express  401 3.9 ms after the auth server answered". */
const measured = /^ {3}(express|koa|fastify) +401 \d+\.\d ms after the auth server answered/gm;

describe("pnpm demo", () => {
  it.runIf(process.env.CI !== undefined)("has Redis on CI, so the kill switch is tested", () => {
    expect(redisAvailable).toBe(true);
  });

  it.runIf(redisAvailable)(
    "walks every step, with the kill switch over Redis, and exits 0",
    async () => {
      const { stdout } = await run(process.execPath, [demo], {
        env: { ...process.env, NO_COLOR: "1" },
      });
      for (const heading of everyStep) expect(stdout).toContain(heading);
      expect(stdout).toContain("7. Logout: the refresh token dies, and every API refuses the card");
      expect(stdout).toContain("9. Revoke everywhere");
      expect(stdout).toContain("revocations shared through Redis");
      // Logout, then revoke everywhere: each of the three APIs answered 401 both times.
      const apis = [...stdout.matchAll(measured)].map((match) => match[1]).sort();
      expect(apis).toEqual(["express", "express", "fastify", "fastify", "koa", "koa"]);
      expect(stdout).not.toContain(skipped);
      expect(stdout).not.toMatch(/→ 5\d\d/);
    },
  );

  it("without Redis passes every other step and says in one line what it skipped", async () => {
    const { stdout } = await run(process.execPath, [demo], {
      env: {
        ...process.env,
        NO_COLOR: "1",
        REDIS_URL: "",
        PATH: path.filter((directory) => !hasRedisServer(directory)).join(delimiter),
      },
    });
    for (const heading of everyStep) expect(stdout).toContain(heading);
    expect(stdout).toContain("the access token lives on until it expires");
    const skipLines = stdout.split("\n").filter((line) => line.includes(skipped));
    expect(skipLines).toHaveLength(1);
    expect(skipLines[0]).toContain("apt-get install redis-server");
    expect(skipLines[0]).toContain("brew install redis");
    expect(skipLines[0]).toContain("docker run -p 6379:6379 redis");
    expect(stdout).not.toContain("9. Revoke everywhere");
    expect(stdout).not.toMatch(/→ 5\d\d/);
  });
});
