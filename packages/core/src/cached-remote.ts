import { ServiceUnavailableError } from "./errors.js";
import { FetchFailure } from "./fetch-json.js";

/** How long a remote document is trusted, and what happens when its server fails. */
export interface CachePolicy {
  /**
   * The longest a fetched document is trusted. A server's `Cache-Control: max-age` may shorten
   * it, never lengthen it: a key the server removed must stop being trusted within this time.
   */
  maxAgeMs: number;
  /** A shorter `Cache-Control: max-age` (or `no-cache`) is raised to this floor. */
  minMaxAgeMs: number;
  /** How long past its max age a document keeps serving while its server fails. */
  maxStaleMs: number;
  /**
   * How long a fetch may stay in flight before a request that joined it stops waiting and
   * fetches anew. Default {@link DEFAULT_FETCH_DEADLINE_MS}.
   */
  fetchDeadlineMs?: number;
}

export interface Loaded<T> {
  value: T;
  maxAgeSec: number | undefined;
}

export interface CachedRemoteHooks<T> {
  onFetched(value: T, previous: T | undefined, durationMs: number): void;
  onFailed(failure: FetchFailure, durationMs: number, willServeStale: boolean): void;
  onStale(staleForMs: number): void;
}

interface Entry<T> {
  value: T;
  fetchedAt: number;
  refreshAt: number;
  expiresAt: number;
}

/** When the cached document was fetched and until when it is trusted (ms since the epoch). */
export interface CachedTimes {
  readonly fetchedAt: number;
  readonly expiresAt: number;
}

// Refresh-ahead starts once this share of the max age has passed, so a busy service renews its
// keys in the background and no request waits on a routine refresh.
const REFRESH_AHEAD_AT = 0.75;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** The fetch timeout's default (5 s) plus a margin for parsing and importing keys. */
export const DEFAULT_FETCH_DEADLINE_MS = 6_000;
const LOST: unique symbol = Symbol("lost");

function toFailure(error: unknown): FetchFailure {
  return error instanceof FetchFailure
    ? error
    : new FetchFailure("invalid_document", "unexpected failure", undefined, error);
}

/**
 * A remote document (a JWKS, a discovery document) with the cache behaviour no Node peer has
 * in full: one fetch in flight at a time, refresh-ahead, stale-if-error with a bounded
 * staleness, and exponential backoff after a failure instead of a fetch per request.
 */
export class CachedRemote<T> {
  readonly #load: () => Promise<Loaded<T>>;
  readonly #policy: CachePolicy;
  readonly #hooks: CachedRemoteHooks<T>;
  #entry: Entry<T> | undefined;
  #inflight: Promise<T> | undefined;
  #inflightStartedAt = 0;
  #consecutiveFailures = 0;
  #retryAt = 0;

  constructor(load: () => Promise<Loaded<T>>, policy: CachePolicy, hooks: CachedRemoteHooks<T>) {
    this.#load = load;
    this.#policy = policy;
    this.#hooks = hooks;
  }

  /** The cached document's times, when one is cached. */
  get times(): CachedTimes | undefined {
    const entry = this.#entry;
    return entry === undefined
      ? undefined
      : { fetchedAt: entry.fetchedAt, expiresAt: entry.expiresAt };
  }

  /** The cached document, fresh or stale, without fetching. */
  get cached(): T | undefined {
    return this.#entry?.value;
  }

  /**
   * Installs a document obtained elsewhere (a snapshot saved at deploy time), trusted until
   * `expiresAt` but never longer than the max age from `fetchedAt`. Ignored when a fetched
   * document is already cached.
   */
  seed(value: T, times: CachedTimes): void {
    if (this.#entry !== undefined) return;
    const expiresAt = Math.min(times.expiresAt, times.fetchedAt + this.#policy.maxAgeMs);
    this.#entry = {
      value,
      fetchedAt: times.fetchedAt,
      refreshAt: times.fetchedAt + (expiresAt - times.fetchedAt) * REFRESH_AHEAD_AT,
      expiresAt,
    };
  }

  /**
   * For callers that reuse results derived from the document (the verified-token cache):
   * starts a background refresh when one is due, and says whether the document is still within
   * its max age. Synchronous and allocation-free on the common path.
   */
  touch(now: number = Date.now()): boolean {
    const entry = this.#entry;
    if (entry === undefined) return false;
    if (now < entry.refreshAt) return true;
    if (now >= this.#retryAt && this.#inflight === undefined) this.#refreshInBackground();
    return now < entry.expiresAt;
  }

  /** The cached value while no refresh is due yet, for callers that must not wait. */
  fresh(now: number): T | undefined {
    const entry = this.#entry;
    return entry !== undefined && now < entry.refreshAt ? entry.value : undefined;
  }

  /** True while a fetch is under way. */
  get inflight(): Promise<T> | undefined {
    return this.#inflight;
  }

  /** The value to use now, fetching only when nothing fresh enough is cached. */
  async get(): Promise<T> {
    const now = Date.now();
    const entry = this.#entry;
    if (entry === undefined) {
      if (now < this.#retryAt && this.#inflight === undefined)
        throw this.#unavailable(undefined, now);
      return this.#fetchOrUnavailable();
    }
    if (now < entry.refreshAt) return entry.value;
    if (now < entry.expiresAt) {
      if (now >= this.#retryAt) this.#refreshInBackground();
      return entry.value;
    }
    if (now < this.#retryAt) return this.#staleOrUnavailable(entry, now);
    try {
      return await this.#fetch();
    } catch {
      return this.#staleOrUnavailable(entry, Date.now());
    }
  }

  /**
   * Fetches now (joining a fetch already under way) and returns the new value.
   * Used for an unknown `kid`, after the caller's cooldown check.
   * @throws {ServiceUnavailableError} when the fetch fails.
   */
  async refresh(): Promise<T> {
    const now = Date.now();
    if (now < this.#retryAt && this.#inflight === undefined)
      throw this.#unavailable(undefined, now);
    return this.#fetchOrUnavailable();
  }

  async #fetchOrUnavailable(): Promise<T> {
    try {
      return await this.#fetch();
    } catch (error) {
      throw this.#unavailable(error, Date.now());
    }
  }

  #staleOrUnavailable(entry: Entry<T>, now: number): T {
    if (now < entry.expiresAt + this.#policy.maxStaleMs) {
      this.#hooks.onStale(now - entry.expiresAt);
      return entry.value;
    }
    throw this.#unavailable(undefined, now);
  }

  #unavailable(cause: unknown, now: number): ServiceUnavailableError {
    return new ServiceUnavailableError({
      reason: "keys_unavailable",
      retryAfterSec: Math.max(1, (this.#retryAt - now) / 1000),
      cause,
    });
  }

  #refreshInBackground(): void {
    // Failures are already counted, reported and backed off inside #fetch.
    this.#fetch().catch(() => undefined);
  }

  #fetch(): Promise<T> {
    if (this.#inflight !== undefined) return this.#join(this.#inflight);
    const started = Date.now();
    const promise = this.#load().then(
      (loaded) => this.#accept(loaded, started),
      (error: unknown) => this.#reject(toFailure(error), started),
    );
    this.#inflight = promise;
    this.#inflightStartedAt = started;
    const clear = (): void => {
      if (this.#inflight === promise) this.#inflight = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  // Cloudflare Workers end a request's I/O when its response is sent: a refresh-ahead started
  // by one request, or a fetch whose request was cancelled, may then never settle, and every
  // later request that joined it would hang. So a joiner waits on a shared fetch only until the
  // fetch's deadline, measured by its own timer, and then fetches anew. On Node, Bun and Deno a
  // fetch always settles within its own timeout and this never fires.
  #join(inflight: Promise<T>): Promise<T> {
    const deadlineMs = this.#policy.fetchDeadlineMs ?? DEFAULT_FETCH_DEADLINE_MS;
    const remainingMs = this.#inflightStartedAt + deadlineMs - Date.now();
    if (remainingMs <= 0) return this.#replaceLost(inflight);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const lost = new Promise<typeof LOST>((resolve) => {
      timer = setTimeout(() => resolve(LOST), remainingMs);
    });
    return Promise.race([inflight, lost]).then(
      (value) => {
        clearTimeout(timer);
        return value === LOST ? this.#replaceLost(inflight) : value;
      },
      (error: unknown) => {
        clearTimeout(timer);
        throw error;
      },
    );
  }

  #replaceLost(inflight: Promise<T>): Promise<T> {
    if (this.#inflight === inflight) this.#inflight = undefined;
    return this.#fetch();
  }

  #accept(loaded: Loaded<T>, started: number): T {
    const now = Date.now();
    const { minMaxAgeMs, maxAgeMs } = this.#policy;
    const maxAge =
      loaded.maxAgeSec === undefined
        ? maxAgeMs
        : Math.min(maxAgeMs, Math.max(minMaxAgeMs, loaded.maxAgeSec * 1000));
    const previous = this.#entry?.value;
    this.#entry = {
      value: loaded.value,
      fetchedAt: now,
      refreshAt: now + maxAge * REFRESH_AHEAD_AT,
      expiresAt: now + maxAge,
    };
    this.#consecutiveFailures = 0;
    this.#retryAt = 0;
    this.#hooks.onFetched(loaded.value, previous, now - started);
    return loaded.value;
  }

  #reject(failure: FetchFailure, started: number): never {
    const now = Date.now();
    this.#consecutiveFailures += 1;
    const backoff = Math.min(
      MAX_BACKOFF_MS,
      FIRST_BACKOFF_MS * 2 ** (this.#consecutiveFailures - 1),
    );
    this.#retryAt = now + backoff;
    const entry = this.#entry;
    const willServeStale = entry !== undefined && now < entry.expiresAt + this.#policy.maxStaleMs;
    this.#hooks.onFailed(failure, now - started, willServeStale);
    throw failure;
  }
}
