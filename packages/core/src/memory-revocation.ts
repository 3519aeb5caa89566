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
  /** Live entries by kind (expired ones are purged first). */
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

// A key per (issuer, value) without delimiter ambiguity: the issuer's length comes first.
function pairKey(issuer: string, value: string): string {
  return `${issuer.length}:${issuer}${value}`;
}

class MemoryList implements MemoryRevocationList {
  readonly #max: number;
  readonly #toleranceMs: number;
  readonly #lifetimeMs: number;
  // Each value is the time (epoch ms) until which the entry matters; subjects and issuers keep
  // the cut-off itself in `cutoffs`.
  readonly #tokens: LRUCache<string, number>;
  readonly #subjects: LRUCache<string, number>;
  readonly #sessions: LRUCache<string, number>;
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
    const cacheOptions = {
      maxSize: this.#max,
      sizeCalculation: () => 1,
      ttlAutopurge: false,
      perf: wallClock,
      // Read the clock on every check: an expiry is a security decision, not a hint.
      ttlResolution: 0,
    };
    this.#tokens = new LRUCache<string, number>(cacheOptions);
    this.#subjects = new LRUCache<string, number>(cacheOptions);
    this.#sessions = new LRUCache<string, number>(cacheOptions);
  }

  isRevoked(query: RevocationQuery): boolean {
    const issuer = query.issuer ?? "";
    const now = Date.now();
    if (query.jti !== undefined && this.#live(this.#tokens, pairKey(issuer, query.jti), now)) {
      return true;
    }
    if (query.sid !== undefined && this.#live(this.#sessions, pairKey(issuer, query.sid), now)) {
      return true;
    }
    if (this.#issuers.size > 0 && this.#cutBy(this.#issuers.get(issuer), query, now)) return true;
    if (query.sub !== undefined && this.#subjects.size > 0) {
      return this.#cutBy(this.#subjects.peek(pairKey(issuer, query.sub)), query, now);
    }
    return false;
  }

  async revokeToken(entry: TokenRevocation): Promise<void> {
    const issuer = requireText(entry.issuer, "issuer");
    const jti = requireText(entry.jti, "jti");
    const until = requireTime(entry.expiresAt, "expiresAt") * 1000 + this.#toleranceMs;
    this.#remember(this.#tokens, pairKey(issuer, jti), until, until);
  }

  async revokeSession(entry: SessionRevocation): Promise<void> {
    const issuer = requireText(entry.issuer, "issuer");
    const sid = requireText(entry.sid, "sid");
    const until = requireTime(entry.expiresAt, "expiresAt") * 1000 + this.#toleranceMs;
    this.#remember(this.#sessions, pairKey(issuer, sid), until, until);
  }

  async revokeSubject(entry: SubjectRevocation): Promise<void> {
    const issuer = requireText(entry.issuer, "issuer");
    const sub = requireText(entry.sub, "sub");
    const cutoff = this.#cutoffMs(entry.issuedBefore);
    const key = pairKey(issuer, sub);
    // Cut-offs only move forward: an older one arriving late must not shorten a newer one.
    const current = this.#subjects.peek(key);
    if (current !== undefined && current >= cutoff) return;
    this.#remember(this.#subjects, key, cutoff, cutoff + this.#lifetimeMs + this.#toleranceMs);
  }

  async revokeIssuer(entry: IssuerRevocation): Promise<void> {
    const issuer = requireText(entry.issuer, "issuer");
    const cutoff = this.#cutoffMs(entry.issuedBefore);
    const current = this.#issuers.get(issuer);
    if (current === undefined || current < cutoff) this.#issuers.set(issuer, cutoff);
  }

  size(): RevocationListSize {
    this.#purge(Date.now());
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

  #live(cache: LRUCache<string, number>, key: string, now: number): boolean {
    // `peek`, not `get`: a lookup must not reorder the cache on the hot path.
    const until = cache.peek(key);
    return until !== undefined && now < until;
  }

  #cutBy(cutoffMs: number | undefined, query: RevocationQuery, now: number): boolean {
    if (cutoffMs === undefined) return false;
    // Forgotten once every token it could refuse has expired (see maxTokenLifetimeSec).
    if (now >= cutoffMs + this.#lifetimeMs + this.#toleranceMs) return false;
    // A token without `iat` could have been issued at any time: fail closed.
    if (query.issuedAt === undefined) return true;
    return query.issuedAt * 1000 < cutoffMs;
  }

  #remember(cache: LRUCache<string, number>, key: string, value: number, untilMs: number): void {
    const now = Date.now();
    const ttl = Math.ceil(untilMs - now);
    if (ttl <= 0) return;
    if (!cache.has(key) && this.#count() >= this.#max) {
      this.#purge(now);
      if (this.#count() >= this.#max) {
        throw new FullError(
          `meishi: the revocation list holds ${this.#max} live entries (its max); ` +
            "refusing to forget a live revocation to make room",
        );
      }
    }
    const current = cache.peek(key);
    // Remember the longest: a token revoked twice with different `exp` keeps the later one.
    if (current !== undefined && current >= value) return;
    cache.set(key, value, { ttl });
  }

  #count(): number {
    return this.#tokens.size + this.#subjects.size + this.#sessions.size;
  }

  #purge(now: number): void {
    // A full purge walks every entry; at most once a second however hard writes press.
    if (now - this.#lastPurge < 1000) return;
    this.#lastPurge = now;
    this.#tokens.purgeStale();
    this.#subjects.purgeStale();
    this.#sessions.purgeStale();
    for (const [issuer, cutoff] of this.#issuers) {
      if (now >= cutoff + this.#lifetimeMs + this.#toleranceMs) this.#issuers.delete(issuer);
    }
  }
}

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
