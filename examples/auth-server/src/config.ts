import type { RevocationList } from "@meishi/core";
/** A demo account. The password is hashed with scrypt when the server starts. */
export interface DemoUser {
  /** Stable user id, the token's `sub`. */
  readonly sub: string;
  /** Login name. */
  readonly username: string;
  /** Display name, the token's `name` claim. */
  readonly name: string;
  /** The token's `role` claim, e.g. `"standard user"` or `"admin"`. */
  readonly role: string;
  /** Plain-text password; a demo only, never how a real directory stores it. */
  readonly password: string;
}

/** The article's cast: omochi and kinako are standard users, admin may rotate keys. */
export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  {
    sub: "00123",
    username: "omochi",
    name: "omochi",
    role: "standard user",
    password: "mochi-mochi",
  },
  {
    sub: "00124",
    username: "kinako",
    name: "kinako",
    role: "standard user",
    password: "kinako-mochi",
  },
  { sub: "00001", username: "admin", name: "admin", role: "admin", password: "admin-pass" },
]);

/** Options of `createAuthServer`; every one has a default. */
export interface AuthServerConfig {
  /** TCP port for `listen()`. Default 4000; `0` picks a free port. */
  port?: number;
  /** Interface for `listen()`. Default `"127.0.0.1"`. */
  host?: string;
  /**
   * The `iss` of every token and the base of the discovery URLs. Default
   * `http://127.0.0.1:<port>`, with the real port once `listen()` has bound it.
   */
  issuer?: string;
  /** The `aud` of every access token. Default `"https://api.meishi.example"`. */
  audience?: string;
  /** Access-token lifetime in seconds. Default 300 (5 minutes). */
  accessTokenTtlSec?: number;
  /**
   * Refresh-token lifetime in seconds; every rotation starts a new one, so this is an idle
   * timeout. Default 86400 (1 day).
   */
  refreshTokenTtlSec?: number;
  /**
   * Absolute lifetime of a refresh-token family (one login), in seconds from the login.
   * Rotation never extends it: past it the refresh is refused with `invalid_grant` and the
   * family is revoked. Default 86400 (24 hours).
   */
  refreshFamilyAbsoluteTtlSec?: number;
  /**
   * Clock skew, in seconds, that verifiers are assumed to allow. A retired key stays published
   * for the access-token lifetime plus this. Default 60.
   */
  clockSkewSec?: number;
  /**
   * Most signing keys the JWKS ever holds: current, next and at most `maxPublishedKeys - 2`
   * retiring ones. A rotation that would publish more removes the oldest retiring key early
   * (its tokens are then refused) and says so through `onWarning`. From 3 to 10; default 4.
   */
  maxPublishedKeys?: number;
  /**
   * SQLite file holding keys and refresh tokens. Default: a fresh file in the OS temp
   * directory, deleted by `close()`. Reuse one path to keep tokens valid across restarts.
   */
  database?: string;
  /** The accounts that can log in. Default {@link DEMO_USERS}. */
  users?: readonly DemoUser[];
  /** Current time in milliseconds since the epoch. Default `Date.now`; tests inject a clock. */
  now?: () => number;
  /**
   * Where logout and `POST /admin/users/:sub/revoke` publish what they revoke, so APIs sharing
   * the list refuse those access tokens at once instead of when they expire: e.g.
   * `createRedisRevocationList()` from `@meishi/redis` (the server's own `/admin` checks it too).
   * Default none: only refresh tokens are revoked, access tokens live until `exp`.
   */
  revocation?: RevocationList;
  /** Where unexpected (500) errors are reported. Default `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * Where events an operator should know about are reported, e.g. a key removed from the
   * JWKS before its tokens expired. Pino's order (details first), so `logger.warn.bind(logger)`
   * fits. Default `console.warn`.
   */
  onWarning?: (details: Record<string, unknown>, message: string) => void;
}

const DEFAULT_PORT = 4000;
/**
 * Current + next + two retiring keys: room for two rotations within one access-token lifetime
 * without cutting off a valid token, and far below what verifiers accept (meishi's
 * `keySource.maxKeys` defaults to 100, some libraries take fewer).
 */
const DEFAULT_MAX_PUBLISHED_KEYS = 4;
/** Current + next + the key that just retired: fewer would cut off every token at each rotation. */
const MIN_PUBLISHED_KEYS = 3;
const MAX_PUBLISHED_KEYS = 10;

function integer(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === "" ? undefined : raw;
}

/**
 * Reads `PORT`, `HOST`, `ISSUER`, `AUDIENCE`, `ACCESS_TOKEN_TTL_SEC`, `REFRESH_TOKEN_TTL_SEC`,
 * `REFRESH_FAMILY_ABSOLUTE_TTL_SEC`, `CLOCK_SKEW_SEC`, `MAX_PUBLISHED_KEYS` and `AUTH_DB`. Unset or empty variables keep their defaults.
 * @throws {TypeError} when a number is not a valid integer.
 * @example
 * const server = createAuthServer(configFromEnv(process.env));
 */
export function configFromEnv(env: NodeJS.ProcessEnv): AuthServerConfig {
  const config: AuthServerConfig = {};
  const port = integer(env, "PORT", 0);
  if (port !== undefined && port > 65535) throw new TypeError(`PORT must be <= 65535, got ${port}`);
  if (port !== undefined) config.port = port;
  const host = text(env, "HOST");
  if (host !== undefined) config.host = host;
  const issuer = text(env, "ISSUER");
  if (issuer !== undefined) config.issuer = issuer;
  const audience = text(env, "AUDIENCE");
  if (audience !== undefined) config.audience = audience;
  const accessTtl = integer(env, "ACCESS_TOKEN_TTL_SEC", 1);
  if (accessTtl !== undefined) config.accessTokenTtlSec = accessTtl;
  const refreshTtl = integer(env, "REFRESH_TOKEN_TTL_SEC", 1);
  if (refreshTtl !== undefined) config.refreshTokenTtlSec = refreshTtl;
  const familyTtl = integer(env, "REFRESH_FAMILY_ABSOLUTE_TTL_SEC", 1);
  if (familyTtl !== undefined) config.refreshFamilyAbsoluteTtlSec = familyTtl;
  const skew = integer(env, "CLOCK_SKEW_SEC", 0);
  if (skew !== undefined) config.clockSkewSec = skew;
  const maxKeys = integer(env, "MAX_PUBLISHED_KEYS", MIN_PUBLISHED_KEYS);
  if (maxKeys !== undefined && maxKeys > MAX_PUBLISHED_KEYS) {
    throw new TypeError(`MAX_PUBLISHED_KEYS must be <= ${MAX_PUBLISHED_KEYS}, got ${maxKeys}`);
  }
  if (maxKeys !== undefined) config.maxPublishedKeys = maxKeys;
  const database = text(env, "AUTH_DB");
  if (database !== undefined) config.database = database;
  return config;
}

/** `config` with every default filled in (the issuer may still wait for `listen()`). */
export interface ResolvedConfig {
  readonly port: number;
  readonly host: string;
  readonly issuer: string | undefined;
  readonly audience: string;
  readonly accessTokenTtlSec: number;
  readonly refreshTokenTtlSec: number;
  readonly refreshFamilyAbsoluteTtlSec: number;
  readonly clockSkewSec: number;
  readonly maxPublishedKeys: number;
  readonly database: string | undefined;
  readonly users: readonly DemoUser[];
  readonly now: () => number;
  readonly revocation: RevocationList | undefined;
  readonly onError: (error: unknown) => void;
  readonly onWarning: (details: Record<string, unknown>, message: string) => void;
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function publishedKeyCap(value: number | undefined): number {
  const cap = positive("maxPublishedKeys", value, DEFAULT_MAX_PUBLISHED_KEYS, MIN_PUBLISHED_KEYS);
  if (cap > MAX_PUBLISHED_KEYS) {
    throw new TypeError(`maxPublishedKeys must be <= ${MAX_PUBLISHED_KEYS}, got ${cap}`);
  }
  return cap;
}

function checkIssuer(issuer: string | undefined): string | undefined {
  if (issuer === undefined) return undefined;
  const url = new URL(issuer); // throws TypeError on garbage
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`issuer must be an http(s) URL, got ${issuer}`);
  }
  // RFC 8414 §2: the issuer has no query or fragment. A trailing slash would make
  // "<issuer>/.well-known/…" ambiguous, so it is dropped.
  if (url.search !== "" || url.hash !== "") {
    throw new TypeError(`issuer must not have a query or fragment, got ${issuer}`);
  }
  return issuer.replace(/\/+$/, "");
}

/** Fills in defaults and validates. @throws {TypeError} naming the bad option. */
export function resolveConfig(config: AuthServerConfig): ResolvedConfig {
  const port = positive("port", config.port, DEFAULT_PORT, 0);
  if (port > 65535) throw new TypeError(`port must be <= 65535, got ${port}`);
  const host = config.host ?? "127.0.0.1";
  const users = config.users ?? DEMO_USERS;
  const usernames = new Set(users.map((user) => user.username));
  if (usernames.size !== users.length) throw new TypeError("users must have distinct usernames");
  return {
    port,
    host,
    // Port 0 is only known after listen(); the issuer is settled there.
    issuer: checkIssuer(config.issuer ?? (port === 0 ? undefined : `http://127.0.0.1:${port}`)),
    audience: config.audience ?? "https://api.meishi.example",
    accessTokenTtlSec: positive("accessTokenTtlSec", config.accessTokenTtlSec, 300),
    refreshTokenTtlSec: positive("refreshTokenTtlSec", config.refreshTokenTtlSec, 86_400),
    refreshFamilyAbsoluteTtlSec: positive(
      "refreshFamilyAbsoluteTtlSec",
      config.refreshFamilyAbsoluteTtlSec,
      86_400,
    ),
    clockSkewSec: positive("clockSkewSec", config.clockSkewSec, 60, 0),
    maxPublishedKeys: publishedKeyCap(config.maxPublishedKeys),
    database: config.database,
    users,
    now: config.now ?? Date.now,
    revocation: config.revocation,
    onError: config.onError ?? ((error) => console.error("auth-server: unexpected error", error)),
    onWarning:
      config.onWarning ?? ((details, message) => console.warn(`auth-server: ${message}`, details)),
  };
}
