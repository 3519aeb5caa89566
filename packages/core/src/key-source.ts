import type { KeyObject } from "node:crypto";
import { type FlattenedJWSInput, type JWSHeaderParameters, errors as joseErrors } from "jose";
import { LRUCache } from "lru-cache";
import { CachedRemote, type CachePolicy } from "./cached-remote.js";
import { type EventListener, safeEmit } from "./events.js";
import { checkFetchableUrl, FetchFailure, fetchJson } from "./fetch-json.js";
import {
  type ParsedKeySet,
  parseKeySet,
  toPublicKeyObject,
  type VerificationKey,
} from "./key-set.js";

/** Where verification keys come from. */
export interface KeySource {
  /**
   * The key for a token's header, or a jose error / ServiceUnavailableError. A bound function,
   * so the verifier hands it to jose as is.
   */
  readonly getKey: (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ) => Promise<VerificationKey>;
  /** Resolves once keys are loaded. */
  ready(): Promise<void>;
  /** Changes whenever the key material changes. */
  readonly version: number;
}

/** Tuning for the remote key source; every field has a safe default. */
export interface KeySourceOptions {
  /** Deadline for one JWKS fetch, headers and body. Default 5000. */
  timeoutMs?: number;
  /** How long a fetched set is fresh without `Cache-Control`. Default 600000 (10 min). */
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

export interface ResolvedKeySourceOptions {
  timeoutMs: number;
  maxAgeMs: number;
  cooldownMs: number;
  rotationRefetchBudget: number;
  maxStaleMs: number;
  maxResponseBytes: number;
  maxKeys: number;
  missCacheSize: number;
}

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

function cachePolicy(options: ResolvedKeySourceOptions): CachePolicy {
  return {
    maxAgeMs: options.maxAgeMs,
    minMaxAgeMs: 5_000,
    maxMaxAgeMs: 86_400_000,
    maxStaleMs: options.maxStaleMs,
  };
}

interface RemoteKeySourceConfig {
  /** A fixed JWKS URL, or an issuer whose discovery document names it. */
  location: { jwksUri: URL } | { discoveryIssuer: string };
  algorithms: readonly string[];
  allowInsecureHttp: boolean;
  options: ResolvedKeySourceOptions;
  onEvent: EventListener | undefined;
}

function noMatchingKey(): joseErrors.JWKSNoMatchingKey {
  return new joseErrors.JWKSNoMatchingKey();
}

/**
 * Fetches the OIDC discovery document and returns its `jwks_uri`, after checking that the
 * document speaks for exactly the configured issuer (OIDC Discovery §4.3): otherwise a
 * compromised or mistaken document could point us at someone else's keys.
 */
function discoveryLoader(issuer: string, config: RemoteKeySourceConfig) {
  const discoveryUrl = new URL(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
  return async () => {
    const { body, maxAgeSec } = await fetchJson(discoveryUrl, {
      timeoutMs: config.options.timeoutMs,
      maxResponseBytes: config.options.maxResponseBytes,
      allowInsecureHttp: config.allowInsecureHttp,
    });
    const doc = body as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (typeof doc !== "object" || doc === null || doc.issuer !== issuer) {
      throw new FetchFailure("invalid_document", "discovery issuer does not match");
    }
    if (typeof doc.jwks_uri !== "string" || !URL.canParse(doc.jwks_uri)) {
      throw new FetchFailure("invalid_document", "discovery document has no valid jwks_uri");
    }
    const jwksUri = new URL(doc.jwks_uri);
    checkFetchableUrl(jwksUri, config.allowInsecureHttp);
    return { value: jwksUri, maxAgeSec };
  };
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
  #generation = 0;
  #version = 0;
  #lastMissRefetchAt = Number.NEGATIVE_INFINITY;
  #rotationBudget = 0;
  #uriLabel: string;

  constructor(config: RemoteKeySourceConfig) {
    this.#config = config;
    const { location } = config;
    this.#misses = new LRUCache({ max: config.options.missCacheSize });
    const policy = cachePolicy(config.options);
    if ("jwksUri" in location) {
      checkFetchableUrl(location.jwksUri, config.allowInsecureHttp);
      this.#uriLabel = location.jwksUri.href;
    } else {
      this.#uriLabel = `${location.discoveryIssuer} (discovery)`;
      this.#discovery = new CachedRemote(
        discoveryLoader(location.discoveryIssuer, config),
        policy,
        {
          onFetched: (uri, _previous, durationMs) => {
            this.#uriLabel = uri.href;
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
  }

  get version(): number {
    return this.#version;
  }

  async ready(): Promise<void> {
    await this.#jwks.get();
  }

  readonly getKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<VerificationKey> => {
    const set = await this.#jwks.get();
    const kid = header.kid;
    if (typeof kid !== "string" || set.kids.has(kid)) return set.select(header, token);
    return this.#resolveUnknownKid(kid, header, token);
  };

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
      safeEmit(this.#config.onEvent, {
        type: "kid_miss",
        uri: this.#uriLabel,
        kid,
        refetched: false,
      });
      throw noMatchingKey();
    }
    // When the refetch fails but keys are cached, this token's kid is still not one we trust:
    // refuse the token (401) rather than report the whole service down (503).
    const set = await this.#jwks.refresh().catch(() => undefined);
    safeEmit(this.#config.onEvent, { type: "kid_miss", uri: this.#uriLabel, kid, refetched: true });
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
        safeEmit(this.#config.onEvent, { type: "key_ignored", uri: uri.href, kid, why }),
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
          uri: this.#uriLabel,
          added,
          removed,
        });
      }
    }
  }

  #emitFetched(document: "jwks" | "discovery", durationMs: number, keyCount: number): void {
    safeEmit(this.#config.onEvent, {
      type: "jwks_fetched",
      uri: this.#uriLabel,
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
      uri: this.#uriLabel,
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
      uri: this.#uriLabel,
      document,
      staleForMs,
    });
  }
}

export function createRemoteKeySource(config: RemoteKeySourceConfig): RemoteKeySource {
  return new RemoteKeySource(config);
}

/** Keys given up front: a JWKS object, a PEM or a KeyObject. Never fetches. */
export class StaticKeySource implements KeySource {
  readonly #resolve: (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ) => Promise<VerificationKey>;
  readonly #loading: Promise<unknown>;
  readonly version = 1;

  constructor(keys: ParsedKeySetPromise | KeyObject | string) {
    if (keys instanceof Promise) {
      this.#loading = keys;
      // Rejection surfaces through ready() and getKey(); don't leave it unhandled meanwhile.
      keys.catch(() => undefined);
      this.#resolve = async (header, token) => (await keys).select(header, token);
    } else {
      const keyObject = toPublicKeyObject(keys);
      this.#loading = Promise.resolve();
      this.#resolve = async () => keyObject;
    }
  }

  async ready(): Promise<void> {
    await this.#loading;
  }

  readonly getKey = (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<VerificationKey> => this.#resolve(header, token);
}

type ParsedKeySetPromise = Promise<ParsedKeySet>;
