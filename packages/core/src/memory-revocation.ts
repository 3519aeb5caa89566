import { LRUCache } from "lru-cache";
import { ConfigurationError } from "./errors.js";
import type {
  IssuerRevocation,
  RevocationList,
  RevocationQuery,
  SessionRevocation,
  SubjectRevocation,
  TokenRevocation,
} from "./revocation.js";

/** Options for {@link createMemoryRevocationList}. */
export interface MemoryRevocationListOptions {
  /**
   * Most live entries held (tokens, subjects and sessions together; issuers are few and not
   * counted). Expired entries are dropped first; a live entry is never evicted, because
   * forgetting it would silently accept a revoked token: a write past the limit throws a
   * `RangeError` with code `ERR_MEISHI_REVOCATION_LIST_FULL` instead. Default `100_000`.
   */
  max?: number;
  /**
   * Seconds a token is remembered after its `exp`, matching the verifier's clock tolerance:
   * a token the verifier still accepts must still be found here. Default `5`.
   */
  clockToleranceSec?: number;
  /**
   * The longest lifetime (`exp − iat`, seconds) of any token the issuers mint. A subject or
   * issuer cut-off at time T is forgotten at T + this + the tolerance, when every token it
   * could refuse has expired. Tokens that live longer (or carry no `iat` and outlive this) are
   * no longer refused once the cut-off is forgotten: set this to the issuers' real maximum, or
   * also set the verifier's `maxTokenAgeSec` to the same value. Default `86_400` (1 day).
   */
  maxTokenLifetimeSec?: number;
}

/** Counts of live entries, for metrics and tests. */
export interface RevocationListSize {
  readonly tokens: number;
  readonly subjects: number;
  readonly issuers: number;
  readonly sessions: number;
}

/** An in-memory {@link RevocationList}; `size()` counts what it holds. */
export interface MemoryRevocationList extends RevocationList {
  /** Answers synchronously, from memory. */
  isRevoked(query: RevocationQuery): boolean;
  /** Entries by kind; expired ones are purged first (at most once a second). */
  size(): RevocationListSize;
}

const DEFAULT_MAX = 100_000;
const DEFAULT_TOLERANCE_SEC = 5;
const DEFAULT_MAX_TOKEN_LIFETIME_SEC = 86_400;

// Wall-clock time for lru-cache's TTLs: entries expire with `exp`, an epoch time, so the
// cache must age them on the same clock (and follow fake timers in tests).
const wallClock = { now: () => Date.now() };

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigurationError(`${name} must be a positive integer`);
  }
  return value;
}

function nonNegative(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(`${name} must be a non-negative number`);
  }
  return value;
}

function requireText(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${name} must be a non-empty string`);
  }
  return value;
}

function requireTime(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a number of seconds since the epoch`);
  }
  return value;
}

class FullError extends RangeError {
  readonly code = "ERR_MEISHI_REVOCATION_LIST_FULL";
}

type CacheOptions = LRUCache.Options<string, number, unknown>;
// One options object for every lookup: this runs on every request.
const PEEK_STALE_TOO: LRUCache.PeekOptions<string, number, unknown> = { allowStale: true };

/**
 * Entries of one kind, one lru-cache per issuer. Keying by the bare `jti` / `sub` / `sid`
 * inside its issuer's cache means a lookup hashes strings taken straight from the verified
 * claims (V8 keeps a string's hash, so a cached identity costs no rehash) and builds no
 * composite key, and no entry stores its issuer again.
 */
class PerIssuer {
  readonly #byIssuer = new Map<string, LRUCache<string, number>>();
  readonly #options: CacheOptions;
  size = 0;

  constructor(options: CacheOptions) {
    this.#options = options;
  }

  /** The stored value, even if past its TTL: callers compare times themselves. */
  peek(issuer: string, key: string): number | undefined {
    return this.#byIssuer.get(issuer)?.peek(key, PEEK_STALE_TOO);
  }

  has(issuer: string, key: string, now: number, liveUntil: (value: number) => number): boolean {
    const value = this.peek(issuer, key);
    return value !== undefined && now < liveUntil(value);
  }

  set(issuer: string, key: string, value: number, ttl: number): void {
    let cache = this.#byIssuer.get(issuer);
    if (cache === undefined) {
      cache = new LRUCache<string, number>(this.#options);
      this.#byIssuer.set(issuer, cache);
    }
    const before = cache.size;
    cache.set(key, value, { ttl });
    this.size += cache.size - before;
  }

  purge(): void {
    let size = 0;
    for (const [issuer, cache] of this.#byIssuer) {
      cache.purgeStale();
      if (cache.size === 0) this.#byIssuer.delete(issuer);
      size += cache.size;
    }
    this.size = size;
  }
}

class MemoryList implements MemoryRevocationList {
  readonly #max: number;
  readonly #toleranceMs: number;
  readonly #lifetimeMs: number;
  // Tokens and sessions hold the time (epoch ms) their entry ends; subjects hold the cut-off.
  readonly #tokens: PerIssuer;
  readonly #subjects: PerIssuer;
  readonly #sessions: PerIssuer;
  readonly #issuers = new Map<string, number>();
  #lastPurge = 0;

  constructor(options: MemoryRevocationListOptions) {
    this.#max = positiveInteger(options.max, "max", DEFAULT_MAX);
    this.#toleranceMs =
      nonNegative(options.clockToleranceSec, "clockToleranceSec", DEFAULT_TOLERANCE_SEC) * 1000;
    this.#lifetimeMs =
      positiveInteger(
        options.maxTokenLifetimeSec,
        "maxTokenLifetimeSec",
        DEFAULT_MAX_TOKEN_LIFETIME_SEC,
      ) * 1000;
    // `maxSize` with a size of 1 per entry bounds the count like `max` would, but lets the
    // cache grow its arrays as needed instead of allocating them for `max` entries up front.
    // The total over all caches is bounded by `#max` in `#remember`.
    const cacheOptions: CacheOptions = {
      maxSize: this.#max,
      sizeCalculation: () => 1,
      ttlAutopurge: false,
      perf: wallClock,
      // Read the clock on every check: an expiry is a security decision, not a hint.
      ttlResolution: 0,
    };
    this.#tokens = new PerIssuer(cacheOptions);
    this.#subjects = new PerIssuer(cacheOptions);
    this.#sessions = new PerIssuer(cacheOptions);
  }

  isRevoked(query: RevocationQuery): boolean {
    const issuer = query.issuer ?? "";
    const now = Date.now();
    if (query.jti !== undefined && this.#tokens.has(issuer, query.jti, now, same)) return true;
    if (query.sid !== undefined && this.#sessions.has(issuer, query.sid, now, same)) return true;
    if (this.#issuers.size > 0 && this.#cutBy(this.#issuers.get(issuer), query, now)) return true;
    if (query.sub !== undefined && this.#subjects.size > 0) {
      return this.#cutBy(this.#subjects.peek(issuer, query.sub), query, now);
    }
    return false;
  }

  async revokeToken(entry: TokenRevocation): Promise<void> {
    const issuer = requireText(entry.issuer, "issuer");
    const jti = requireText(entry.jti, "jti");
    const until = requireTime(entry.expiresAt, "expiresAt") * 1000 + this.#toleranceMs;
    this.#remember(this.#tokens, issuer, jti, until, until);
  }

  async revokeSession(entry: SessionRevocation): Promise<void> {
    const issuer = requireText(entry.issuer, "issuer");
    const sid = requireText(entry.sid, "sid");
    const until = requireTime(entry.expiresAt, "expiresAt") * 1000 + this.#toleranceMs;
    this.#remember(this.#sessions, issuer, sid, until, until);
  }

  async revokeSubject(entry: SubjectRevocation): Promise<void> {
    const issuer = requireText(entry.issuer, "issuer");
    const sub = requireText(entry.sub, "sub");
    const cutoff = this.#cutoffMs(entry.issuedBefore);
    this.#remember(
      this.#subjects,
      issuer,
      sub,
      cutoff,
      cutoff + this.#lifetimeMs + this.#toleranceMs,
    );
  }

  async revokeIssuer(entry: IssuerRevocation): Promise<void> {
    const issuer = requireText(entry.issuer, "issuer");
    const cutoff = this.#cutoffMs(entry.issuedBefore);
    const current = this.#issuers.get(issuer);
    if (current === undefined || current < cutoff) this.#issuers.set(issuer, cutoff);
  }

  size(): RevocationListSize {
    this.#purge(Date.now(), false);
    return {
      tokens: this.#tokens.size,
      subjects: this.#subjects.size,
      issuers: this.#issuers.size,
      sessions: this.#sessions.size,
    };
  }

  #cutoffMs(issuedBefore: number | undefined): number {
    return issuedBefore === undefined
      ? Date.now()
      : requireTime(issuedBefore, "issuedBefore") * 1000;
  }

  #cutBy(cutoffMs: number | undefined, query: RevocationQuery, now: number): boolean {
    if (cutoffMs === undefined) return false;
    // Forgotten once every token it could refuse has expired (see maxTokenLifetimeSec).
    if (now >= cutoffMs + this.#lifetimeMs + this.#toleranceMs) return false;
    // A token without `iat` could have been issued at any time: fail closed.
    if (query.issuedAt === undefined) return true;
    return query.issuedAt * 1000 < cutoffMs;
  }

  #remember(entries: PerIssuer, issuer: string, key: string, value: number, untilMs: number): void {
    const now = Date.now();
    const ttl = Math.ceil(untilMs - now);
    if (ttl <= 0) return;
    const current = entries.peek(issuer, key);
    // Remember the latest: a token revoked twice keeps the later `exp`, a cut-off only moves
    // forward, so an older write arriving late never shortens a newer one.
    if (current !== undefined && current >= value) return;
    if (current === undefined && this.#count() >= this.#max) {
      this.#purge(now, false);
      if (this.#count() >= this.#max) {
        throw new FullError(
          `meishi: the revocation list holds ${this.#max} live entries (its max); ` +
            "refusing to forget a live revocation to make room",
        );
      }
    }
    entries.set(issuer, key, value, ttl);
  }

  #count(): number {
    return this.#tokens.size + this.#subjects.size + this.#sessions.size;
  }

  #purge(now: number, always: boolean): void {
    // A full purge walks every entry: when writes press on a full list, at most once a second.
    if (!always && now - this.#lastPurge < 1000) return;
    this.#lastPurge = now;
    this.#tokens.purge();
    this.#subjects.purge();
    this.#sessions.purge();
    for (const [issuer, cutoff] of this.#issuers) {
      if (now >= cutoff + this.#lifetimeMs + this.#toleranceMs) this.#issuers.delete(issuer);
    }
  }
}

const same = (value: number): number => value;

/**
 * Creates an in-memory revocation list for one process (and for tests). Nothing leaves the
 * process: for several API processes use `@meishi/redis`, which keeps one of these per process
 * fed from Redis.
 *
 * - `revokeToken({ issuer, jti, expiresAt })` refuses one token by `(iss, jti)`, remembered
 *   until its `exp` plus `clockToleranceSec`.
 * - `revokeSubject({ issuer, sub, issuedBefore? })` refuses every token of that subject with
 *   `iat` before the cut-off (default now); a token with no `iat` is refused too.
 * - `revokeIssuer({ issuer, issuedBefore? })` does the same for every token of an issuer.
 * - `revokeSession({ issuer, sid, expiresAt })` refuses every token carrying that `sid`.
 *
 * It never keys on the token string, so a re-encoded token (base64url slack bits, an ECDSA
 * high-S twin) is refused like the original. `isRevoked` answers synchronously.
 *
 * @throws {ConfigurationError} for a bad option.
 * @example
 * const revocations = createMemoryRevocationList();
 * const verifier = createVerifier({ jwksUri, issuer, audience, revocation: revocations });
 * await revocations.revokeToken({ issuer, jti: identity.claims.jti, expiresAt: identity.claims.exp });
 */
export function createMemoryRevocationList(
  options: MemoryRevocationListOptions = {},
): MemoryRevocationList {
  return new MemoryList(options);
}
