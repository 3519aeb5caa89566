import { createHash } from "node:crypto";
import { type Cluster, Redis } from "ioredis";

/** A Redis connection: a `redis://` / `rediss://` URL, or a factory for your own ioredis client. */
export type RedisConnectionOption = string | (() => Redis | Cluster);

/** An ioredis client or cluster: both run the commands the stores use. */
export type RedisClient = Redis | Cluster;

// Commands fail at once while disconnected instead of queueing: a revocation write must tell
// its caller it did not happen, and the per-request check never waits on Redis anyway.
const URL_CLIENT_OPTIONS = {
  enableOfflineQueue: false,
  autoResubscribe: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 5_000,
  connectTimeout: 5_000,
  // Reconnect soon and keep trying: the local copy serves meanwhile, and catching up sooner
  // keeps the window of stale answers short.
  retryStrategy: (times: number) => Math.min(50 * times, 1_000),
} as const;

export function openConnection(option: RedisConnectionOption): RedisClient {
  if (typeof option === "function") return option();
  return new Redis(option, URL_CLIENT_OPTIONS);
}

export async function closeConnection(client: RedisClient): Promise<void> {
  if (client.status === "end") return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * Waits (bounded) for a connection that is still connecting or reconnecting, so a write made
 * right after start-up or during a short blip is not refused by the fail-fast offline mode.
 */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  if (client.status === "end")
    return Promise.reject(new Error("meishi: the Redis connection is closed"));
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off("ready", onReady);
      client.off("end", onEnd);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = () => done();
    const onEnd = () => done(new Error("meishi: the Redis connection is closed"));
    const timer = setTimeout(
      () => done(new Error(`meishi: Redis not reachable within ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.once("ready", onReady);
    client.once("end", onEnd);
  });
}

/** Runs a Lua script by its SHA1, sending the text only when Redis does not have it yet. */
export function scriptRunner(
  source: string,
): (
  client: RedisClient,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown> {
  const sha = createHash("sha1").update(source).digest("hex");
  return async (client, keys, args) => {
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return client.eval(source, keys.length, ...keys, ...args);
    }
  };
}
