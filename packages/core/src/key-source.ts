import type { FlattenedJWSInput, JSONWebKeySet, JWSHeaderParameters, KeyObject } from "jose";
import { errors as joseErrors } from "jose";
import { LRUCache } from "lru-cache";
import { CachedRemote, type CachePolicy } from "./cached-remote.js";
import { discoveryLoader, discoveryUrlFor } from "./discovery.js";
import { withoutStackCapture } from "./errors.js";
import { type EventListener, safeEmit } from "./events.js";
import { checkFetchableUrl, FetchFailure, fetchJson } from "./fetch-json.js";
import {
  isAcceptableKid,
  type ParsedKeySet,
  parseKeySet,
  type VerificationKey,
} from "./key-set.js";
import { platform } from "./platform.js";

export type { VerificationKey } from "./key-set.js";

/**
 * Where verification keys come from. meishi's remote source ({@link createRemoteKeySource}) is
 * the default; implement this to plug in your own (a secrets manager, a sidecar).
 */
export interface KeySource {
  /** The key for a token's protected header, or a jose error (401) / ServiceUnavailableError (503). */
  getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerificationKey>;
  /** Resolves once keys are loaded (use it for readiness). */
  ready(): Promise<void>;
  /** Changes whenever the key material changes; verified tokens cached under another version are re-checked. */
  readonly version: number;
  /**
   * Called on every verified-token cache hit: start a refresh when one is due, and return false
   * once the keys are past their max age so the token is checked again in full. Without it,
   * cached tokens are trusted until `version` changes. `now` (epoch ms) is the caller's own
   * clock reading, so a hit reads the clock once.
   */
  touch?(now?: number): boolean;
}

/** The key for a header when it is at hand; `now` is the caller's clock reading (epoch ms). */
export type KeyNow = (header: JWSHeaderParameters, now: number) => VerificationKey | undefined;

// meishi's own key sources answer a key they already hold synchronously, sparing a verification
// its promise hops; `undefined` sends it through `getKey`. Kept off the public KeySource
// contract (a user's source simply takes the promise path), and off the classes' declared
// shape, which their published types would otherwise have to spell out.
const keysAtHand = new WeakMap<KeySource, KeyNow>();

/** The synchronous key lookup of one of meishi's own key sources, if `source` is one. */
export function keyNowOf(source: KeySource): KeyNow | undefined {
  return keysAtHand.get(source);
}

/** The keys a remote source holds, saved to seed a cold start (e.g. in a Lambda bundle or env). */
export interface JwksSnapshot {
  /** The JWKS URL they came from; a snapshot is used only by a source with the same URL. */
  readonly uri: string;
  /** When they were fetched, ms since the epoch. */
  readonly fetchedAt: number;
  /** Until when they are trusted without a fetch, ms since the epoch (capped by `maxAgeMs`). */
  readonly expiresAt: number;
  /** The usable public keys. */
  readonly jwks: JSONWebKeySet;
}

/** What a remote source holds now, for health checks and debugging. */
export interface KeySourceStatus {
  /** The JWKS URL (after discovery, when discovery is used). */
  readonly uri: string;
  /** `kid`s of the cached keys. */
  readonly kids: readonly string[];
  readonly keyCount: number;
  /** When the cached set was fetched and until when it is fresh (ms since the epoch). */
  readonly fetchedAt: number | undefined;
  readonly expiresAt: number | undefined;
  /** True when the cached set is past its max age (served only while the endpoint fails). */
  readonly stale: boolean;
}

/** Tuning for the remote key source; every field has a safe default. */
export interface KeySourceOptions {
  /** Deadline for one JWKS fetch, headers and body. Default 5000. */
  timeoutMs?: number;
  /**
   * The longest a fetched set is trusted before it is fetched again. `Cache-Control: max-age`
   * can shorten it (down to 5 s), never lengthen it. Default 600000 (10 min).
   */
  maxAgeMs?: number;
  /** Least time between two unknown-`kid` refetches. Default 30000. */
  cooldownMs?: number;
  /**
   * Extra refetches per cooldown for a `kid` seen missing twice, so a genuine rotation gets
   * through during a flood of junk `kid`s. Default 1.
   */
  rotationRefetchBudget?: number;
  /** How long past expiry cached keys keep serving while the endpoint fails. Default 86400000 (24 h). */
  maxStaleMs?: number;
  /** Cap on a JWKS or discovery response. Default 1048576 (1 MiB). */
  maxResponseBytes?: number;
  /** Cap on keys in a set. Default 100. */
  maxKeys?: number;
  /** Unknown `kid`s remembered. Default 1000. */
  missCacheSize?: number;
}

export type ResolvedKeySourceOptions = Required<KeySourceOptions>;

export const KEY_SOURCE_DEFAULTS: ResolvedKeySourceOptions = Object.freeze({
  timeoutMs: 5_000,
  maxAgeMs: 600_000,
  cooldownMs: 30_000,
  rotationRefetchBudget: 1,
  maxStaleMs: 86_400_000,
  maxResponseBytes: 1_048_576,
  maxKeys: 100,
  missCacheSize: 1_000,
});

/** A `Cache-Control: max-age` (or `no-cache`) below this is raised to it. */
export const MIN_HEADER_MAX_AGE_MS = 5_000;

function cachePolicy(options: ResolvedKeySourceOptions, viaDiscovery: boolean): CachePolicy {
  return {
    maxAgeMs: options.maxAgeMs,
    minMaxAgeMs: Math.min(MIN_HEADER_MAX_AGE_MS, options.maxAgeMs),
    maxStaleMs: options.maxStaleMs,
    // A waiter gives up on someone else's fetch only once that fetch must have timed out (two
    // fetches in a row with discovery): on Workers a fetch can be cut off and never settle.
    fetchDeadlineMs: options.timeoutMs * (viaDiscovery ? 2 : 1) + 1_000,
  };
}

export interface RemoteKeySourceConfig {
  /** A fixed JWKS URL, or an issuer whose discovery document names it. */
  location: { jwksUri: URL } | { discoveryIssuer: string };
  algorithms: readonly string[];
  allowInsecureHttp: boolean;
  options: ResolvedKeySourceOptions;
  onEvent: EventListener | undefined;
  snapshot?: JwksSnapshot | undefined;
}

function noMatchingKey(): joseErrors.JWKSNoMatchingKey {
  return withoutStackCapture(() => new joseErrors.JWKSNoMatchingKey());
}

/**
 * The remote key source: a cached JWKS (see {@link CachedRemote}) plus the unknown-`kid`
 * policy. A miss refetches at most once per cooldown; within a cooldown, a `kid` that was
 * already seen missing after the latest fetch may spend the small rotation budget. Junk
 * `kid`s are each seen once, so a flood of them costs one fetch per cooldown, while a client
 * retrying with a genuinely new key gets through on its second try even during that flood.
 */
export class RemoteKeySource implements KeySource {
  readonly #config: RemoteKeySourceConfig;
  readonly #jwks: CachedRemote<ParsedKeySet>;
  readonly #discovery: CachedRemote<URL> | undefined;
  readonly #misses: LRUCache<string, number>;
  #seeding: Promise<void> | undefined;
  #generation = 0;
  #version = 0;
  #lastMissRefetchAt = Number.NEGATIVE_INFINITY;
  #rotationBudget = 0;
  #uri: string;

  constructor(config: RemoteKeySourceConfig) {
    this.#config = config;
    const { location } = config;
    this.#misses = new LRUCache({ max: config.options.missCacheSize });
    const policy = cachePolicy(config.options, !("jwksUri" in location));
    if ("jwksUri" in location) {
      checkFetchableUrl(location.jwksUri, config.allowInsecureHttp);
      this.#uri = location.jwksUri.href;
    } else {
      checkFetchableUrl(discoveryUrlFor(location.discoveryIssuer), config.allowInsecureHttp);
      this.#uri = `${location.discoveryIssuer} (discovery)`;
      this.#discovery = new CachedRemote(
        discoveryLoader(location.discoveryIssuer, {
          timeoutMs: config.options.timeoutMs,
          maxResponseBytes: config.options.maxResponseBytes,
          allowInsecureHttp: config.allowInsecureHttp,
        }),
        policy,
        {
          onFetched: (uri, _previous, durationMs) => {
            this.#uri = uri.href;
            this.#emitFetched("discovery", durationMs, 0);
          },
          onFailed: (failure, durationMs, servingStale) =>
            this.#emitFailed("discovery", failure, durationMs, servingStale),
          onStale: (staleForMs) => this.#emitStale("discovery", staleForMs),
        },
      );
    }
    this.#jwks = new CachedRemote(() => this.#loadKeySet(), policy, {
      onFetched: (set, previous, durationMs) => this.#onKeySet(set, previous, durationMs),
      onFailed: (failure, durationMs, servingStale) =>
        this.#emitFailed("jwks", failure, durationMs, servingStale),
      onStale: (staleForMs) => this.#emitStale("jwks", staleForMs),
    });
    if (config.snapshot !== undefined) this.#seeding = this.#seed(config.snapshot);
    // The key getKey would give, when the set is fresh and jose chose that key before.
    keysAtHand.set(this, (header, now) =>
      this.#seeding === undefined ? this.#jwks.fresh(now)?.selectNow(header) : undefined,
    );
  }

  get version(): number {
    return this.#version;
  }

  async ready(): Promise<void> {
    if (this.#seeding !== undefined) await this.#seeding;
    await this.#jwks.get();
  }

  touch(now?: number): boolean {
    return this.#jwks.touch(now);
  }

  /** The cached keys as a {@link JwksSnapshot}, or `undefined` before the first fetch. */
  snapshot(): JwksSnapshot | undefined {
    const set = this.#jwks.cached;
    const times = this.#jwks.times;
    if (set === undefined || times === undefined) return undefined;
    return {
      uri: this.#uri,
      fetchedAt: times.fetchedAt,
      expiresAt: times.expiresAt,
      jwks: structuredClone(set.jwks),
    };
  }

  /** What the source holds now. */
  status(): KeySourceStatus {
    const set = this.#jwks.cached;
    const times = this.#jwks.times;
    return {
      uri: this.#uri,
      kids: set === undefined ? [] : [...set.kids],
      keyCount: set?.keyCount ?? 0,
      fetchedAt: times?.fetchedAt,
      expiresAt: times?.expiresAt,
      stale: times !== undefined && Date.now() >= times.expiresAt,
    };
  }

  readonly getKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<VerificationKey> => {
    if (this.#seeding !== undefined) await this.#seeding;
    const kid = header.kid;
    // Checked before any lookup, cache or event: attacker text must not reach logs or the LRU.
    if (!isAcceptableKid(kid)) throw noMatchingKey();
    const set = await this.#jwks.get();
    if (kid === undefined || set.kids.has(kid)) return set.select(header, token);
    return this.#resolveUnknownKid(kid, header, token);
  };

  async #seed(snapshot: JwksSnapshot): Promise<void> {
    // A snapshot of another URL (a stale bundle after the configuration moved) is ignored.
    const expected =
      "jwksUri" in this.#config.location ? this.#config.location.jwksUri.href : undefined;
    try {
      if (expected !== undefined && snapshot.uri !== expected) {
        throw new Error(`snapshot is of ${snapshot.uri}, not ${expected}`);
      }
      const set = await parseKeySet(snapshot.jwks, {
        algorithms: this.#config.algorithms,
        maxKeys: this.#config.options.maxKeys,
        onIgnored: () => {},
      });
      this.#jwks.seed(set, snapshot);
      this.#version += 1;
    } catch (error) {
      safeEmit(this.#config.onEvent, {
        type: "jwks_fetch_failed",
        uri: this.#uri,
        document: "jwks",
        durationMs: 0,
        reason: "invalid_document",
        servingStale: false,
        error: new FetchFailure(
          "invalid_document",
          `snapshot not used: ${(error as Error).message}`,
        ),
      });
    } finally {
      this.#seeding = undefined;
    }
  }

  async #resolveUnknownKid(
    kid: string,
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<VerificationKey> {
    // A refetch already under way (another request's miss, a refresh-ahead) may bring the key.
    const pending = this.#jwks.inflight;
    if (pending !== undefined) {
      const set = await pending.catch(() => undefined);
      if (set?.kids.has(kid)) return set.select(header, token);
    }
    if (!this.#mayRefetchFor(kid)) {
      this.#misses.set(kid, this.#generation);
      safeEmit(this.#config.onEvent, { type: "kid_miss", uri: this.#uri, kid, refetched: false });
      throw noMatchingKey();
    }
    // When the refetch fails but keys are cached, this token's kid is still not one we trust:
    // refuse the token (401) rather than report the whole service down (503).
    const set = await this.#jwks.refresh().catch(() => undefined);
    safeEmit(this.#config.onEvent, { type: "kid_miss", uri: this.#uri, kid, refetched: true });
    if (set?.kids.has(kid)) return set.select(header, token);
    this.#misses.set(kid, this.#generation);
    throw noMatchingKey();
  }

  #mayRefetchFor(kid: string): boolean {
    const now = Date.now();
    if (now - this.#lastMissRefetchAt >= this.#config.options.cooldownMs) {
      this.#lastMissRefetchAt = now;
      this.#rotationBudget = this.#config.options.rotationRefetchBudget;
      return true;
    }
    if (this.#misses.get(kid) === this.#generation && this.#rotationBudget > 0) {
      this.#rotationBudget -= 1;
      return true;
    }
    return false;
  }

  async #loadKeySet() {
    const uri = this.#discovery === undefined ? this.#fixedJwksUri() : await this.#discovery.get();
    const { body, maxAgeSec } = await fetchJson(uri, {
      timeoutMs: this.#config.options.timeoutMs,
      maxResponseBytes: this.#config.options.maxResponseBytes,
      allowInsecureHttp: this.#config.allowInsecureHttp,
    });
    const value = await parseKeySet(body, {
      algorithms: this.#config.algorithms,
      maxKeys: this.#config.options.maxKeys,
      onIgnored: (kid, why) =>
        safeEmit(this.#config.onEvent, {
          type: "key_ignored",
          uri: uri.href,
          kid: isAcceptableKid(kid) ? kid : "(unprintable kid)",
          why,
        }),
    });
    return { value, maxAgeSec };
  }

  #fixedJwksUri(): URL {
    const { location } = this.#config;
    if (!("jwksUri" in location)) throw new FetchFailure("invalid_document", "no jwks_uri");
    return location.jwksUri;
  }

  #onKeySet(set: ParsedKeySet, previous: ParsedKeySet | undefined, durationMs: number): void {
    this.#generation += 1;
    if (previous?.fingerprint !== set.fingerprint) this.#version += 1;
    this.#emitFetched("jwks", durationMs, set.keyCount);
    if (previous !== undefined) {
      const added = [...set.kids].filter((kid) => !previous.kids.has(kid));
      const removed = [...previous.kids].filter((kid) => !set.kids.has(kid));
      if (added.length > 0 || removed.length > 0) {
        safeEmit(this.#config.onEvent, {
          type: "key_rotation_seen",
          uri: this.#uri,
          added,
          removed,
        });
      }
    }
  }

  #emitFetched(document: "jwks" | "discovery", durationMs: number, keyCount: number): void {
    safeEmit(this.#config.onEvent, {
      type: "jwks_fetched",
      uri: this.#uri,
      document,
      durationMs,
      keyCount,
    });
  }

  #emitFailed(
    document: "jwks" | "discovery",
    failure: FetchFailure,
    durationMs: number,
    servingStale: boolean,
  ): void {
    safeEmit(this.#config.onEvent, {
      type: "jwks_fetch_failed",
      uri: this.#uri,
      document,
      durationMs,
      reason: failure.reason,
      servingStale,
      error: failure,
    });
  }

  #emitStale(document: "jwks" | "discovery", staleForMs: number): void {
    safeEmit(this.#config.onEvent, {
      type: "jwks_stale_served",
      uri: this.#uri,
      document,
      staleForMs,
    });
  }
}

/** Keys given up front: a JWKS object, a PEM or a KeyObject. Never fetches. */
export class StaticKeySource implements KeySource {
  readonly #resolve: (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ) => Promise<VerificationKey>;
  readonly #loading: Promise<unknown>;
  #loaded: ((header: JWSHeaderParameters) => VerificationKey | undefined) | undefined;
  readonly version = 1;

  constructor(keys: Promise<ParsedKeySet> | KeyObject | string) {
    if (keys instanceof Promise) {
      this.#loading = keys;
      // Rejection surfaces through ready() and getKey(); don't leave it unhandled meanwhile.
      keys.then(
        (set) => {
          this.#loaded = set.selectNow;
        },
        () => undefined,
      );
      this.#resolve = async (header, token) => (await keys).select(header, token);
    } else {
      if (platform.importStaticKey === undefined) {
        throw new TypeError(
          "PEM and KeyObject keys need Node.js; on other runtimes pass a JWKS object as keys",
        );
      }
      const key = platform.importStaticKey(keys);
      this.#loading = Promise.resolve();
      this.#resolve = async () => key;
      this.#loaded = () => key;
    }
    keysAtHand.set(this, (header) => this.#loaded?.(header));
  }

  async ready(): Promise<void> {
    await this.#loading;
  }

  readonly getKey = (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<VerificationKey> => this.#resolve(header, token);
}
