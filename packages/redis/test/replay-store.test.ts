import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisReplayStore } from "../src/index.js";
import { eventually } from "./helpers/api-process.js";
import { startRedisServer, type TestRedisServer } from "./helpers/redis-server.js";

const WORKER = fileURLToPath(new URL("./fixtures/replay-worker.mjs", import.meta.url));

let redis: TestRedisServer;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin.disconnect();
  await redis.stop();
});

function runWorker(
  ns: string,
  jtis: readonly string[],
): { ready: Promise<void>; go: () => void; results: Promise<Record<string, boolean>> } {
  const child = fork(WORKER, [], {
    env: { ...process.env, REDIS_URL: redis.url, NS: ns, JTIS: jtis.join(",") },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let onReady = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const results = new Promise<Record<string, boolean>>((resolve, reject) => {
    child.on("message", (message) => {
      if (message === "ready") onReady();
      else resolve(message as Record<string, boolean>);
    });
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
  return { ready, go: () => child.send("go"), results };
}

describe("createRedisReplayStore", () => {
  it("lets exactly one of two API processes accept each proof id", async () => {
    const ns = `dpop-test:${randomUUID()}`;
    const jtis = Array.from({ length: 500 }, () => randomUUID());
    const a = runWorker(ns, jtis);
    const b = runWorker(ns, jtis);
    await Promise.all([a.ready, b.ready]);
    a.go();
    b.go();
    const [fromA, fromB] = await Promise.all([a.results, b.results]);
    for (const jti of jtis) {
      // `false` = first seen (accepted); exactly one process may accept it.
      expect([fromA[jti], fromB[jti]].filter((replayed) => replayed === false)).toHaveLength(1);
    }
  });

  it("answers false the first time and true for a replay, in one process", async () => {
    const store = createRedisReplayStore({ redis: redis.url, namespace: `t:${randomUUID()}` });
    const exp = Date.now() / 1000 + 60;
    await expect(store.seen("proof-1", exp)).resolves.toBe(false);
    await expect(store.seen("proof-1", exp)).resolves.toBe(true);
    await expect(store.seen("proof-2", exp)).resolves.toBe(false);
    await store.close();
  });

  it("stores a hash of the jti under the default namespace, expiring with the proof", async () => {
    const store = createRedisReplayStore({ redis: redis.url });
    const jti = `raw-jti-${randomUUID()}`;
    await store.seen(jti, Date.now() / 1000 + 30);
    const keys = await admin.keys("meishi:dpop:*");
    expect(keys.some((key) => key.includes(jti))).toBe(false);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^meishi:dpop:[A-Za-z0-9_-]{43}$/);
    const ttl = await admin.ttl(keys[0] ?? "");
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
    await admin.del(keys[0] ?? "");
    await store.close();
  });

  it("forgets a proof id once it expires", async () => {
    const store = createRedisReplayStore({ redis: redis.url, namespace: `t:${randomUUID()}` });
    await expect(store.seen("short", Date.now() / 1000 + 1)).resolves.toBe(false);
    expect(
      await eventually(
        async () => (await store.seen("short", Date.now() / 1000 + 1)) === false,
        5_000,
        200,
      ),
    ).toBe(true);
    await store.close();
  });

  it("rejects (so the caller refuses the proof) when Redis cannot answer", async () => {
    const down = await startRedisServer();
    const store = createRedisReplayStore({ redis: down.url });
    await expect(store.seen("x", Date.now() / 1000 + 60)).resolves.toBe(false);
    await down.kill();
    await expect(store.seen("y", Date.now() / 1000 + 60)).rejects.toThrow();
    await store.close();
  });

  it("refuses bad arguments", async () => {
    const store = createRedisReplayStore({ redis: redis.url, namespace: `t:${randomUUID()}` });
    await expect(store.seen("", 1)).rejects.toThrow(TypeError);
    await expect(store.seen("a", Number.NaN)).rejects.toThrow(TypeError);
    await store.close();
  });
});
