import { randomUUID } from "node:crypto";
import {
  ConfigurationError,
  createMemoryRevocationList,
  type IssuerRevocation,
  type MemoryRevocationList,
  type RevocationList,
  type RevocationListSize,
  type RevocationQuery,
  type SessionRevocation,
  type SubjectRevocation,
  type TokenRevocation,
} from "@meishi/core";
import {
  closeConnection,
  openConnection,
  type RedisClient,
  type RedisConnectionOption,
  scriptRunner,
  whenReady,
} from "./connection.js";
import {
  type Change,
  type EntryKind,
  HEARTBEAT_SCRIPT,
  type KeyLayout,
  keyLayout,
  pairMember,
  parseChange,
  REVOKE_SCRIPT,
  splitPair,
} from "./keys.js";

/** Which of the two connections an event is about. */
export type RedisConnectionRole = "commands" | "subscriber";

/** Why the local copy was (re)loaded from Redis. */
export type ResyncReason = "start" | "reconnect" | "missed_change" | "heartbeat_lost" | "list_full";

/** What the store reports to `onEvent`, for logs, metrics and alerts. */
export type RedisRevocationEvent =
  | { type: "redis_connected"; connection: RedisConnectionRole }
  | { type: "redis_disconnected"; connection: RedisConnectionRole; error: Error | undefined }
  | {
      type: "revocations_resynced";
      reason: ResyncReason;
      /** Entries read from Redis. */
      entries: number;
      durationMs: number;
    }
  | { type: "revocations_resync_failed"; reason: ResyncReason; error: Error }
  | {
      type: "revocations_stale";
      /** Time since the local copy was last known to be complete. */
      staleForMs: number;
      /** True only with `failOpenWhenStale`: requests are still answered from the stale copy. */
      failingOpen: boolean;
    }
  | { type: "revocations_fresh" }
  | { type: "revocations_local_list_full"; max: number; error: Error };

/** Options for {@link createRedisRevocationList}. */
export interface RedisRevocationListOptions {
  /**
   * Where Redis is: a `redis://` or `rediss://` URL, or a function returning a new ioredis
   * `Redis` or `Cluster` (called twice: one connection for commands, one for pub/sub). A
   * client you build should set `enableOfflineQueue: false` so writes fail fast while down.
   */
  redis: RedisConnectionOption;
  /**
   * Where to subscribe to changes, if not `redis`: for example a replica, to take the fan-out
   * off the primary (Redis replicates `PUBLISH`, in order with the writes). Writes, loads and
   * the heartbeat still go to `redis`, which must be the primary. Default: `redis`.
   */
  subscriberRedis?: RedisConnectionOption;
  /**
   * Prefix of every key and channel, used as the Cluster hash tag: `{namespace}:tokens` etc.
   * Default `"meishi:revocation"`.
   */
  namespace?: string;
  /**
   * How long the local copy may go unconfirmed (Redis unreachable, heartbeats lost) and still
   * answer. Past it `isRevoked` throws and the verifier answers 503 with `Retry-After`.
   * Default `10_000` ms.
   */
  maxStalenessMs?: number;
  /**
   * DANGEROUS. Past `maxStalenessMs`, keep answering from the stale copy instead of refusing
   * service: a token revoked while Redis is unreachable is then accepted. Default `false`.
   */
  failOpenWhenStale?: boolean;
  /** How often each process confirms its copy is complete. Default `1_000` ms. */
  heartbeatIntervalMs?: number;
  /** Seconds a token is remembered after its `exp` (the verifier's clock tolerance). Default `5`. */
  clockToleranceSec?: number;
  /** Longest token lifetime the issuers mint, for forgetting cut-offs. Default `86_400`. */
  maxTokenLifetimeSec?: number;
  /**
   * Most live entries held in each process (tokens, subjects and sessions). Past it the store
   * fails closed (it never forgets a live revocation). Default `2_000_000`.
   */
  maxLocalEntries?: number;
  /** How long `ready()` waits for the first load before rejecting. Default `10_000` ms. */
  readyTimeoutMs?: number;
  /** Receives connection, staleness and resync events; a throwing listener is ignored. */
  onEvent?: (event: RedisRevocationEvent) => void;
}

/** Snapshot of a store's state, for health checks and metrics. */
export interface RedisRevocationListStatus {
  /** Live entries in this process's copy. */
  readonly size: RevocationListSize;
  /** When the copy was last known complete (epoch ms), or `undefined` before the first load. */
  readonly freshAsOf: number | undefined;
  /** True while `isRevoked` answers (fresh, or stale within the limit, or failing open). */
  readonly serving: boolean;
  /** The highest change sequence number applied. */
  readonly seq: number;
}

/** A {@link RevocationList} over Redis with a local copy in every process. */
export interface RedisRevocationList extends RevocationList {
  /** Resolves once the local copy is loaded; rejects after `readyTimeoutMs`. */
  ready(): Promise<void>;
  /** State of the local copy. */
  status(): RedisRevocationListStatus;
  /** Closes both connections and stops the heartbeat. */
  close(): Promise<void>;
}

/** Thrown by `isRevoked` when the local copy cannot be trusted; the verifier answers 503. */
export class RevocationsUnavailableError extends Error {
  /** `ERR_MEISHI_REVOCATIONS_STALE` or `ERR_MEISHI_REVOCATIONS_LIST_FULL`. */
  readonly code: "ERR_MEISHI_REVOCATIONS_STALE" | "ERR_MEISHI_REVOCATIONS_LIST_FULL";
  /** Read by the verifier for its 503's `Retry-After`. */
  readonly retryAfterSec = 5;
  constructor(
    code: RevocationsUnavailableError["code"],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
  }
  override get name(): string {
    return "RevocationsUnavailableError";
  }
}

const DEFAULTS = {
  namespace: "meishi:revocation",
  maxStalenessMs: 10_000,
  heartbeatIntervalMs: 1_000,
  clockToleranceSec: 5,
  maxTokenLifetimeSec: 86_400,
  maxLocalEntries: 2_000_000,
  readyTimeoutMs: 10_000,
} as const;

const SCAN_COUNT = 10_000;
const FULL_RETRY_MS = 30_000;
// A write waits this long for a connection that is still (re)connecting, then fails.
const CONNECT_WAIT_MS = 2_000;
// Heartbeats unanswered for this many intervals mean the subscription is dead even if the
// socket looks open (a half-open TCP connection): reconnect it.
const LOST_HEARTBEATS = 3;

const runRevoke = scriptRunner(REVOKE_SCRIPT);
const runHeartbeat = scriptRunner(HEARTBEAT_SCRIPT);

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(`${name} must be a positive number`);
  }
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${name} must be a non-empty string`);
  }
  return value;
}

function seconds(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a number of seconds since the epoch`);
  }
  return value;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

class RedisList implements RedisRevocationList {
  readonly #keys: KeyLayout;
  readonly #processId = randomUUID();
  readonly #heartbeatChannel: string;
  readonly #maxStalenessMs: number;
  readonly #failOpen: boolean;
  readonly #heartbeatMs: number;
  readonly #toleranceSec: number;
  readonly #lifetimeSec: number;
  readonly #maxLocal: number;
  readonly #readyTimeoutMs: number;
  readonly #onEvent: ((event: RedisRevocationEvent) => void) | undefined;
  readonly #local: MemoryRevocationList;
  readonly #commands: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #timer: NodeJS.Timeout;

  // The copy is complete as of `#freshAsOf` only while `#synced`: a subscription that has
  // been continuously up since the last full load.
  #synced = false;
  #freshAsOf: number | undefined;
  #seq = 0;
  #loading = false;
  #seenWhileLoading: number[] = [];
  #generation = 0;
  #resyncing: Promise<void> | undefined;
  #resyncAgain: ResyncReason | undefined;
  #full = false;
  #staleReported = false;
  #lastHeartbeatSent = 0;
  #lastHeartbeatSeen = 0;
  #closed = false;
  #lastFullRetry = 0;
  #reconnectReason: ResyncReason = "reconnect";
  #firstLoad: { promise: Promise<void>; resolve: () => void };
  readonly #connected = { commands: false, subscriber: false };

  constructor(options: RedisRevocationListOptions) {
    if (options === null || typeof options !== "object" || options.redis === undefined) {
      throw new ConfigurationError("redis is required: a redis:// URL or a client factory");
    }
    const namespace = options.namespace ?? DEFAULTS.namespace;
    if (typeof namespace !== "string" || namespace === "" || /[{}]/.test(namespace)) {
      throw new ConfigurationError("namespace must be a non-empty string without { or }");
    }
    this.#keys = keyLayout(namespace);
    this.#heartbeatChannel = this.#keys.heartbeatChannel(this.#processId);
    this.#maxStalenessMs = positive(
      options.maxStalenessMs,
      "maxStalenessMs",
      DEFAULTS.maxStalenessMs,
    );
    this.#failOpen = options.failOpenWhenStale === true;
    this.#heartbeatMs = positive(
      options.heartbeatIntervalMs,
      "heartbeatIntervalMs",
      DEFAULTS.heartbeatIntervalMs,
    );
    this.#toleranceSec = options.clockToleranceSec ?? DEFAULTS.clockToleranceSec;
    this.#lifetimeSec = options.maxTokenLifetimeSec ?? DEFAULTS.maxTokenLifetimeSec;
    this.#maxLocal = options.maxLocalEntries ?? DEFAULTS.maxLocalEntries;
    if (!Number.isSafeInteger(this.#maxLocal) || this.#maxLocal <= 0) {
      throw new ConfigurationError("maxLocalEntries must be a positive integer");
    }
    this.#readyTimeoutMs = positive(
      options.readyTimeoutMs,
      "readyTimeoutMs",
      DEFAULTS.readyTimeoutMs,
    );
    this.#onEvent = options.onEvent;
    // The local copy validates the shared numeric options.
    this.#local = createMemoryRevocationList({
      max: this.#maxLocal,
      clockToleranceSec: this.#toleranceSec,
      maxTokenLifetimeSec: this.#lifetimeSec,
    });
    if (this.#failOpen) {
      process.emitWarning(
        "meishi: failOpenWhenStale is on: while Redis is unreachable past maxStalenessMs, " +
          "revoked tokens may be accepted.",
        { code: "MEISHI_REVOCATION_FAIL_OPEN" },
      );
    }
    let resolve = () => {};
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.#firstLoad = { promise, resolve };

    this.#commands = openConnection(options.redis);
    this.#subscriber = openConnection(options.subscriberRedis ?? options.redis);
    this.#watch(this.#commands, "commands");
    this.#watch(this.#subscriber, "subscriber");
    this.#subscriber.on("message", (channel: string, message: string) => {
      this.#onMessage(channel, message);
    });
    this.#subscriber.on("ready", () => {
      const reason = this.#reconnectReason;
      this.#reconnectReason = "reconnect";
      this.#resync(reason);
    });
    if (this.#subscriber.status === "ready") this.#resync("start");
    this.#timer = setInterval(() => this.#tick(), this.#heartbeatMs);
    this.#timer.unref();
  }

  isRevoked(query: RevocationQuery): boolean {
    if (!this.#failOpen) {
      if (this.#full) {
        throw new RevocationsUnavailableError(
          "ERR_MEISHI_REVOCATIONS_LIST_FULL",
          `meishi: the local revocation list is full (maxLocalEntries ${this.#maxLocal})`,
        );
      }
      const staleFor = this.#staleForMs(Date.now());
      if (staleFor > this.#maxStalenessMs) {
        this.#reportStale(staleFor);
        throw new RevocationsUnavailableError(
          "ERR_MEISHI_REVOCATIONS_STALE",
          this.#freshAsOf === undefined
            ? "meishi: revocations not loaded from Redis yet"
            : `meishi: revocations unconfirmed for ${Math.round(staleFor)} ms`,
        );
      }
    }
    return this.#local.isRevoked(query);
  }

  async revokeToken(entry: TokenRevocation): Promise<void> {
    const member = pairMember(text(entry.issuer, "issuer"), text(entry.jti, "jti"));
    const score = seconds(entry.expiresAt, "expiresAt");
    await this.#write("t", this.#keys.tokens, member, score, score + this.#toleranceSec);
  }

  async revokeSession(entry: SessionRevocation): Promise<void> {
    const member = pairMember(text(entry.issuer, "issuer"), text(entry.sid, "sid"));
    const score = seconds(entry.expiresAt, "expiresAt");
    await this.#write("s", this.#keys.sessions, member, score, score + this.#toleranceSec);
  }

  async revokeSubject(entry: SubjectRevocation): Promise<void> {
    const member = pairMember(text(entry.issuer, "issuer"), text(entry.sub, "sub"));
    // The cut-off is fixed here, once, so Redis and every process hold the same value.
    const cutoff =
      entry.issuedBefore === undefined
        ? Date.now() / 1000
        : seconds(entry.issuedBefore, "issuedBefore");
    await this.#write("u", this.#keys.subjects, member, cutoff, this.#cutoffEnd(cutoff));
  }

  async revokeIssuer(entry: IssuerRevocation): Promise<void> {
    const issuer = text(entry.issuer, "issuer");
    const cutoff =
      entry.issuedBefore === undefined
        ? Date.now() / 1000
        : seconds(entry.issuedBefore, "issuedBefore");
    await this.#write("i", this.#keys.issuers, issuer, cutoff, this.#cutoffEnd(cutoff));
  }

  ready(): Promise<void> {
    if (this.#freshAsOf !== undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new RevocationsUnavailableError(
            "ERR_MEISHI_REVOCATIONS_STALE",
            `meishi: revocations not loaded from Redis within ${this.#readyTimeoutMs} ms`,
          ),
        );
      }, this.#readyTimeoutMs);
      timer.unref();
      this.#firstLoad.promise.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  status(): RedisRevocationListStatus {
    const staleFor = this.#staleForMs(Date.now());
    return {
      size: this.#local.size(),
      freshAsOf: this.#freshAsOf,
      serving: this.#failOpen || (!this.#full && staleFor <= this.#maxStalenessMs),
      seq: this.#seq,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all([closeConnection(this.#subscriber), closeConnection(this.#commands)]);
  }

  #cutoffEnd(cutoffSec: number): number {
    return cutoffSec + this.#lifetimeSec + this.#toleranceSec;
  }

  #staleForMs(now: number): number {
    if (this.#freshAsOf === undefined) return Number.POSITIVE_INFINITY;
    return now - this.#freshAsOf;
  }

  async #write(
    kind: EntryKind,
    key: string,
    member: string,
    score: number,
    untilSec: number,
  ): Promise<void> {
    const nowSec = Date.now() / 1000;
    // Redis drops what no token can need any more: entries whose end is past, by score.
    const dropBelow =
      kind === "t" || kind === "s"
        ? nowSec - this.#toleranceSec
        : nowSec - this.#lifetimeSec - this.#toleranceSec;
    const keepSec = Math.max(1, Math.ceil(untilSec - nowSec));
    await whenReady(this.#commands, CONNECT_WAIT_MS);
    await runRevoke(
      this.#commands,
      [key, this.#keys.seq],
      [member, score, dropBelow, keepSec, this.#keys.channel, kind],
    );
    // Visible in this process at once, without waiting for the message to come back.
    this.#apply(kind, member, score);
  }

  #apply(kind: EntryKind, member: string, score: number): void {
    let applied: Promise<void> | undefined;
    if (kind === "i") {
      applied = this.#local.revokeIssuer({ issuer: member, issuedBefore: score });
    } else {
      const pair = splitPair(member);
      if (pair === undefined) return;
      const [issuer, value] = pair;
      if (issuer === "" || value === "") return;
      if (kind === "t") applied = this.#local.revokeToken({ issuer, jti: value, expiresAt: score });
      else if (kind === "s")
        applied = this.#local.revokeSession({ issuer, sid: value, expiresAt: score });
      else applied = this.#local.revokeSubject({ issuer, sub: value, issuedBefore: score });
    }
    applied.catch((error: unknown) => this.#onFull(asError(error)));
  }

  #onFull(error: Error): void {
    if (this.#full) return;
    this.#full = true;
    this.#emit({ type: "revocations_local_list_full", max: this.#maxLocal, error });
  }

  #onMessage(channel: string, message: string): void {
    if (channel === this.#heartbeatChannel) {
      this.#onHeartbeat(message);
      return;
    }
    if (channel !== this.#keys.channel) return;
    const change = parseChange(message);
    if (change === undefined) return;
    this.#apply(change.kind, change.member, change.score);
    this.#track(change);
  }

  #track(change: Change): void {
    if (this.#loading) {
      this.#seenWhileLoading.push(change.seq);
      return;
    }
    if (!this.#synced) return;
    if (change.seq === this.#seq + 1 || change.seq <= this.#seq) {
      this.#seq = Math.max(this.#seq, change.seq);
      return;
    }
    // A gap: a change was published that this process never received.
    this.#resync("missed_change");
  }

  #onHeartbeat(message: string): void {
    const bar = message.indexOf("|");
    const seq = Number(message.slice(0, bar));
    const sentAt = Number(message.slice(bar + 1));
    if (!Number.isSafeInteger(seq) || !Number.isFinite(sentAt)) return;
    this.#lastHeartbeatSeen = Date.now();
    if (!this.#synced || this.#loading) return;
    // Every change published before the heartbeat has arrived before it (same shard, same
    // connection, in order). A different number means one was lost, or Redis restarted empty.
    if (seq !== this.#seq) {
      this.#resync("missed_change");
      return;
    }
    this.#markFresh(sentAt);
  }

  #markFresh(asOf: number): void {
    if (this.#freshAsOf === undefined || asOf > this.#freshAsOf) this.#freshAsOf = asOf;
    if (this.#staleReported && this.#staleForMs(Date.now()) <= this.#maxStalenessMs) {
      this.#staleReported = false;
      this.#emit({ type: "revocations_fresh" });
    }
  }

  #reportStale(staleFor: number): void {
    if (this.#staleReported || this.#freshAsOf === undefined) return;
    this.#staleReported = true;
    this.#emit({ type: "revocations_stale", staleForMs: staleFor, failingOpen: this.#failOpen });
  }

  #tick(): void {
    const now = Date.now();
    const staleFor = this.#staleForMs(now);
    if (staleFor > this.#maxStalenessMs) this.#reportStale(staleFor);
    if (this.#full) {
      // Expired entries may have made room by now; a reload finds out. Not every tick: a
      // full copy is large and reloading it is not free.
      if (this.#resyncing === undefined && now - this.#lastFullRetry >= FULL_RETRY_MS) {
        this.#lastFullRetry = now;
        this.#resync("list_full");
      }
      return;
    }
    if (this.#subscriber.status !== "ready") return;
    if (!this.#synced) {
      // A load that failed while the subscription stayed up (the command connection was
      // down) is retried here; a reconnect of the subscriber starts its own.
      if (this.#resyncing === undefined) this.#resync("reconnect");
      return;
    }
    if (
      this.#lastHeartbeatSent > 0 &&
      this.#lastHeartbeatSeen < this.#lastHeartbeatSent - this.#heartbeatMs * LOST_HEARTBEATS
    ) {
      // Heartbeats go out but none come back: the subscription is dead. Reconnecting it runs
      // a full reload on `ready`.
      this.#lastHeartbeatSent = 0;
      this.#synced = false;
      this.#reconnectReason = "heartbeat_lost";
      this.#subscriber.disconnect(true);
      return;
    }
    runHeartbeat(this.#commands, [this.#keys.seq], [this.#heartbeatChannel, now]).then(
      () => {
        if (this.#lastHeartbeatSent === 0) this.#lastHeartbeatSeen = now;
        this.#lastHeartbeatSent = now;
      },
      () => {
        // The command connection is down; its events report it, and staleness grows.
      },
    );
  }

  #resync(reason: ResyncReason): void {
    if (this.#closed) return;
    this.#synced = false;
    this.#generation += 1;
    if (this.#resyncing !== undefined) {
      this.#resyncAgain = reason;
      return;
    }
    const generation = this.#generation;
    this.#resyncing = this.#load(reason, generation)
      .catch((error: unknown) => {
        this.#emit({ type: "revocations_resync_failed", reason, error: asError(error) });
      })
      .finally(() => {
        this.#resyncing = undefined;
        const again = this.#resyncAgain;
        this.#resyncAgain = undefined;
        if (again !== undefined && this.#subscriber.status === "ready") this.#resync(again);
      });
  }

  async #load(reason: ResyncReason, generation: number): Promise<void> {
    const started = Date.now();
    // Subscribe first, then read: a change made after this point arrives as a message, one
    // made before it is in the keys. Applying both is harmless (every change only adds).
    await this.#subscriber.subscribe(this.#keys.channel, this.#heartbeatChannel);
    this.#loading = true;
    this.#seenWhileLoading = [];
    let entries = 0;
    try {
      const seq = Number((await this.#commands.get(this.#keys.seq)) ?? "0");
      // Expired entries may have made room; the load finds out.
      this.#full = false;
      entries += await this.#scan(this.#keys.issuers, "i");
      entries += await this.#scan(this.#keys.subjects, "u");
      entries += await this.#scan(this.#keys.sessions, "s");
      entries += await this.#scan(this.#keys.tokens, "t");
      this.#seq = this.#settleSeq(seq);
    } finally {
      this.#loading = false;
    }
    if (generation !== this.#generation || this.#full) return;
    this.#synced = true;
    this.#lastHeartbeatSent = 0;
    const first = this.#freshAsOf === undefined;
    // Complete as of now: what was published before the subscription is in the sets, what
    // came after arrived on it (the subscription stayed up, or the generation would differ).
    // The next heartbeat checks the sequence number.
    this.#markFresh(Date.now());
    this.#emit({
      type: "revocations_resynced",
      reason: first ? "start" : reason,
      entries,
      durationMs: Date.now() - started,
    });
    if (first) this.#firstLoad.resolve();
  }

  // Changes that arrived during the load must continue the number read before it without a
  // gap; otherwise the next heartbeat sees a mismatch and reloads.
  #settleSeq(readBefore: number): number {
    let seq = readBefore;
    for (const seen of this.#seenWhileLoading.sort((a, b) => a - b)) {
      if (seen === seq + 1) seq = seen;
    }
    this.#seenWhileLoading = [];
    return seq;
  }

  async #scan(key: string, kind: EntryKind): Promise<number> {
    let cursor = "0";
    let count = 0;
    do {
      const [next, flat] = await this.#commands.zscan(key, cursor, "COUNT", SCAN_COUNT);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        this.#apply(kind, flat[i] as string, Number(flat[i + 1]));
        count += 1;
      }
    } while (cursor !== "0");
    return count;
  }

  #watch(client: RedisClient, role: RedisConnectionRole): void {
    let lastError: Error | undefined;
    client.on("error", (error: unknown) => {
      // Without a listener ioredis prints every reconnect failure; the events below say it once.
      lastError = asError(error);
    });
    client.on("ready", () => {
      lastError = undefined;
      if (this.#connected[role]) return;
      this.#connected[role] = true;
      this.#emit({ type: "redis_connected", connection: role });
    });
    client.on("close", () => {
      if (role === "subscriber") {
        // A load in flight can no longer prove it missed nothing.
        this.#synced = false;
        this.#generation += 1;
      }
      if (!this.#connected[role]) return;
      this.#connected[role] = false;
      this.#emit({ type: "redis_disconnected", connection: role, error: lastError });
    });
  }

  #emit(event: RedisRevocationEvent): void {
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch {
      // A logging bug must not break the deny-list.
    }
  }
}

/**
 * Creates a revocation list over Redis. Writes go to Redis (with TTLs that follow the tokens)
 * and are published; every process keeps a full local copy, loaded at start, fed by pub/sub,
 * reloaded after each reconnect and checked by a heartbeat, so `isRevoked` is a local lookup
 * with no network round trip.
 *
 * Redis unreachable: the copy keeps answering for `maxStalenessMs`, then `isRevoked` throws
 * (the verifier answers 503 `temporarily_unavailable` with `Retry-After`) until the copy is
 * reloaded. `failOpenWhenStale: true` answers from the stale copy instead.
 *
 * @throws {ConfigurationError} for a bad option.
 * @example
 * const revocation = createRedisRevocationList({ redis: process.env.REDIS_URL! });
 * app.use(jwtAuth({ jwksUri, issuer, audience, revocation }));
 * // logout: await revocation.revokeToken({ issuer, jti: req.auth.claims.jti, expiresAt: req.auth.claims.exp });
 */
export function createRedisRevocationList(
  options: RedisRevocationListOptions,
): RedisRevocationList {
  return new RedisList(options);
}
