import { createHash } from "node:crypto";
import { ConfigurationError } from "@meishi/core";
import {
  closeConnection,
  openConnection,
  type RedisClient,
  type RedisConnectionOption,
  whenReady,
} from "./connection.js";

/** Options for {@link createRedisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** A `redis://` / `rediss://` URL, or a function returning a new ioredis `Redis` or `Cluster`. */
  redis: RedisConnectionOption;
  /** Prefix of every key: `<namespace>:<sha256 of the jti>`. Default `"meishi:dpop"`. */
  namespace?: string;
}

/** Remembers proof ids (DPoP `jti`) across processes so a replayed proof is refused. */
export interface RedisReplayStore {
  /**
   * Records `jti` until `expiresAtSec` and tells whether it was already recorded: `false` the
   * first time (accept the proof), `true` for a replay (refuse it). Atomic across processes.
   * Rejects when Redis cannot answer: refuse the proof then (fail closed).
   */
  seen(jti: string, expiresAtSec: number): Promise<boolean>;
  /** Closes the connection. */
  close(): Promise<void>;
}

const DEFAULT_NAMESPACE = "meishi:dpop";
const CONNECT_WAIT_MS = 2_000;

/**
 * Creates a DPoP proof replay store over Redis (RFC 9449 §11.1): `SET key 1 EX ttl NX`, one
 * atomic command, so two API processes that receive the same proof cannot both accept it.
 * Keys hold a SHA-256 of the `jti` (bounded size whatever the client sent) and expire with
 * the proof; in a Redis Cluster they spread over all slots.
 *
 * @throws {ConfigurationError} for a bad option.
 * @example
 * const replays = createRedisReplayStore({ redis: process.env.REDIS_URL! });
 * if (await replays.seen(proof.jti, proof.iat + 60)) throw new Error("DPoP proof replayed");
 */
export function createRedisReplayStore(options: RedisReplayStoreOptions): RedisReplayStore {
  if (options === null || typeof options !== "object" || options.redis === undefined) {
    throw new ConfigurationError("redis is required: a redis:// URL or a client factory");
  }
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  if (typeof namespace !== "string" || namespace === "") {
    throw new ConfigurationError("namespace must be a non-empty string");
  }
  const client: RedisClient = openConnection(options.redis);
  client.on("error", () => {
    // Reported through the rejected `seen()` calls; a listener keeps ioredis from logging.
  });
  return {
    async seen(jti: string, expiresAtSec: number): Promise<boolean> {
      if (typeof jti !== "string" || jti === "") {
        throw new TypeError("jti must be a non-empty string");
      }
      if (typeof expiresAtSec !== "number" || !Number.isFinite(expiresAtSec)) {
        throw new TypeError("expiresAtSec must be a number of seconds since the epoch");
      }
      const key = `${namespace}:${createHash("sha256").update(jti).digest("base64url")}`;
      // At least a second: an already-expired proof is refused by its verifier anyway, and
      // Redis rejects a zero TTL.
      const ttl = Math.max(1, Math.ceil(expiresAtSec - Date.now() / 1000));
      await whenReady(client, CONNECT_WAIT_MS);
      const reply = await client.set(key, "1", "EX", ttl, "NX");
      return reply !== "OK";
    },
    close: () => closeConnection(client),
  };
}
