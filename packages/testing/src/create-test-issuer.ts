import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { FaultEndpoint, FaultSpec } from "./faults.js";
import { type FaultContext, type Reply, send, serveFault } from "./internal/respond.js";
import { signCompact } from "./internal/sign-compact.js";
import { withoutUndefined } from "./internal/without-undefined.js";
import { createKey, TEST_ALGORITHMS, type TestAlgorithm, type TestKey } from "./keys.js";

/** Path of the JWKS document (RFC 8414 §3 convention). */
const JWKS_PATH = "/.well-known/jwks.json";
/** Path of the OpenID Connect discovery document (OpenID Connect Discovery 1.0 §4). */
const DISCOVERY_PATH = "/.well-known/openid-configuration";
const DEFAULT_AUDIENCE = "https://api.meishi.test";

/**
 * Options for {@link createTestIssuer}.
 *
 * - `algorithms`: one signing key is generated per algorithm; the first is the default signer.
 *   Default `["RS256"]`.
 * - `issuer`: the `iss` claim and discovery `issuer`. Default: the server's own URL,
 *   `http://127.0.0.1:PORT`.
 * - `audience`: the `aud` claim. Default `"https://api.meishi.test"`.
 * - `host`: interface to listen on. Default `"127.0.0.1"`.
 * - `port`: port to listen on. Default `0` (a random free port).
 * - `cacheControl`: `Cache-Control` header sent with the JWKS and discovery documents.
 *   Default `null` (no header).
 * - `defaultClaims`: claims merged into every token minted by `sign()`. Default none.
 * - `tokenLifetimeSec`: seconds from now to `exp` for `sign()`. Default `300`.
 *
 * @example
 * ```ts
 * const issuer = await createTestIssuer({ algorithms: ["ES256", "RS256"], tokenLifetimeSec: 60 });
 * ```
 */
export interface TestIssuerOptions {
  algorithms?: TestAlgorithm[];
  issuer?: string;
  audience?: string | string[];
  host?: string;
  port?: number;
  cacheControl?: string | null;
  defaultClaims?: Record<string, unknown>;
  tokenLifetimeSec?: number;
}

/**
 * Per-token options for `issuer.sign()`.
 *
 * - `alg`: sign with the current signer for this algorithm. Default: the default signer (the
 *   first of `options.algorithms`, or its latest rotation).
 * - `kid`: sign with the issuer key that has this kid (published or not); `null` keeps the
 *   default key but omits `kid` from the header. Default: the chosen key's kid.
 * - `header`: extra or overriding protected header fields (`typ`, `jku`, `x5u`, `jwk`, `crit`,
 *   `b64`, a lying `alg` or `kid`, ...); a field set to `undefined` is removed. Default none.
 * - `expiresInSec`: `exp` = now + this; `null` omits `exp`. Default: `tokenLifetimeSec`.
 * - `notBeforeSec`: `nbf` = now + this, may be negative. Default: no `nbf`.
 * - `issuedAtSec`: `iat` = now + this offset. Default `0`.
 *
 * "Now" is `Date.now()`, so Vitest fake timers apply.
 *
 * @example
 * ```ts
 * const expired = await issuer.sign({}, { expiresInSec: -60, issuedAtSec: -120 });
 * ```
 */
export interface SignOptions {
  alg?: TestAlgorithm;
  kid?: string | null;
  header?: Record<string, unknown>;
  expiresInSec?: number | null;
  notBeforeSec?: number;
  issuedAtSec?: number;
}

/**
 * Options for `issuer.rotate()`.
 *
 * - `alg`: algorithm of the new key. Default: the default signer's algorithm.
 * - `retireOld`: unpublish the key the new one replaces. Default `false`.
 *
 * @example
 * ```ts
 * await issuer.rotate({ retireOld: true });
 * ```
 */
export interface RotateOptions {
  alg?: TestAlgorithm;
  retireOld?: boolean;
}

/**
 * Options for `issuer.addKey()`.
 *
 * - `kid`: key id; may repeat an existing kid on purpose. Default: random.
 * - `publish`: serve the key in the JWKS. Default `true`.
 * - `use`: the published JWK's `use`. Default `"sig"`.
 * - `omitAlg`: publish the JWK without `alg`. Default `false`.
 *
 * @example
 * ```ts
 * await issuer.addKey("ES256", { use: "enc" });
 * ```
 */
export interface AddKeyOptions {
  kid?: string;
  publish?: boolean;
  use?: "sig" | "enc";
  omitAlg?: boolean;
}

/**
 * Options for `issuer.setFault()`.
 *
 * - `endpoint`: `"jwks"`, `"discovery"` or `"all"`. Default `"all"`.
 * - `times`: apply to the next `times` matching requests only (counted across the endpoints
 *   it covers), then answer normally again. Default: until changed.
 *
 * @example
 * ```ts
 * issuer.setFault({ kind: "close" }, { endpoint: "jwks", times: 2 });
 * ```
 */
export interface SetFaultOptions {
  endpoint?: FaultEndpoint;
  times?: number;
}

/**
 * Live request counters of a test issuer. The same object is updated in place.
 *
 * @example
 * ```ts
 * expect(issuer.requests.jwks).toBe(1);
 * ```
 */
export interface RequestCounts {
  readonly jwks: number;
  readonly discovery: number;
  readonly total: number;
}

/**
 * A running local token issuer: signing keys, a JWKS and discovery server on loopback, token
 * minting and fault injection. Create it with {@link createTestIssuer}; `close()` it after use.
 *
 * @example
 * ```ts
 * const issuer = await createTestIssuer();
 * const token = await issuer.sign({ role: "standard user" });
 * await issuer.close();
 * ```
 */
export interface TestIssuer {
  /** Base URL of the server, e.g. `http://127.0.0.1:49152`. */
  readonly url: string;
  /** The `iss` of minted tokens and of the discovery document. */
  readonly issuer: string;
  /** The `aud` of minted tokens. */
  readonly audience: string | string[];
  /** `${url}/.well-known/jwks.json`. */
  readonly jwksUri: string;
  /** `${url}/.well-known/openid-configuration`. */
  readonly discoveryUri: string;
  /** Snapshot of every key the issuer holds, published or not, oldest first. */
  readonly keys: readonly TestKey[];
  /** Live counts of requests: to the JWKS, to discovery, and in total (including 404s and faults). */
  readonly requests: RequestCounts;
  /** Set every request counter back to zero. */
  resetRequestCounts(): void;
  /**
   * Mint a signed token. Default claims: `iss`, `aud`, `sub: "user-123"`, `iat`, `exp` (now +
   * `tokenLifetimeSec`), a random `jti`; then `defaultClaims`; then `claims`. A claim set to
   * `undefined` is removed. Header: `alg`, `kid`, `typ: "JWT"`, then `options.header`.
   * @throws Error when `options.alg` or `options.kid` names no key of this issuer.
   */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>;
  /** Generate and publish a new key that becomes the signer for its algorithm. */
  rotate(options?: RotateOptions): Promise<TestKey>;
  /** Generate an extra key; it becomes its algorithm's signer only if that algorithm had none. */
  addKey(alg: TestAlgorithm, options?: AddKeyOptions): Promise<TestKey>;
  /**
   * Stop serving every key and extra JWK with this kid.
   * @throws Error when nothing has this kid.
   */
  unpublish(kid: string): void;
  /**
   * Serve every held key with this kid again.
   * @throws Error when no held key has this kid.
   */
  publish(kid: string): void;
  /** Serve an arbitrary extra JWK as-is, after the issuer's own keys. */
  publishJwk(jwk: Record<string, unknown>): void;
  /** Make an endpoint misbehave (see {@link FaultSpec}); `null` clears it. */
  setFault(fault: FaultSpec | null, options?: SetFaultOptions): void;
  /** Change the `Cache-Control` header of the JWKS and discovery documents; `null` sends none. */
  setCacheControl(value: string | null): void;
  /** Shallow-merge fields over the discovery document (`undefined` removes); `null` resets. */
  setDiscovery(overrides: Record<string, unknown> | null): void;
  /** Stop the server and destroy every open socket, including hanging requests. Idempotent. */
  close(): Promise<void>;
}

interface ActiveFault {
  spec: FaultSpec;
  remaining: number | null;
}

/**
 * Start a local token issuer with real keys and a JWKS/discovery server on loopback.
 *
 * Endpoints: `GET /.well-known/jwks.json` (`{ keys: [...] }`, `application/json`) and
 * `GET /.well-known/openid-configuration`; any other path is 404, any other method 405.
 * See {@link TestIssuerOptions} for options and defaults.
 *
 * @throws TypeError / RangeError for invalid options; the listen error when the port is taken.
 * @example
 * ```ts
 * import { createRemoteJWKSet, jwtVerify } from "jose";
 *
 * const issuer = await createTestIssuer();
 * const token = await issuer.sign({ sub: "alice" });
 * const jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
 * await jwtVerify(token, jwks, { issuer: issuer.issuer, audience: issuer.audience });
 * await issuer.close();
 * ```
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const algorithms = validateAlgorithms(options.algorithms ?? ["RS256"]);
  const defaultAlg = algorithms[0] ?? "RS256";
  const lifetimeSec = options.tokenLifetimeSec ?? 300;
  if (!Number.isFinite(lifetimeSec))
    throw new RangeError("tokenLifetimeSec must be a finite number");
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError("port must be an integer from 0 to 65535");
  }

  const entries: TestKey[] = [];
  const signers = new Map<TestAlgorithm, TestKey>();
  for (const alg of algorithms) {
    const key = await createKey(alg, undefined, {});
    key.published = true;
    entries.push(key);
    signers.set(alg, key);
  }

  const extraJwks: Record<string, unknown>[] = [];
  const counts = { jwks: 0, discovery: 0, total: 0 };
  const faults: Record<"jwks" | "discovery", ActiveFault | null> = { jwks: null, discovery: null };
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let cacheControl = options.cacheControl ?? null;
  let discoveryOverrides: Record<string, unknown> | null = null;
  let closing: Promise<void> | undefined;

  const publishedJwks = (): Record<string, unknown>[] => [
    ...entries.filter((key) => key.published).map((key) => ({ ...key.publicJwk })),
    ...extraJwks,
  ];

  const documentHeaders = (): Record<string, string> =>
    cacheControl === null ? {} : { "cache-control": cacheControl };

  const jwksReply = (): Reply => ({
    status: 200,
    contentType: "application/json",
    body: JSON.stringify({ keys: publishedJwks() }),
    headers: documentHeaders(),
  });

  const discoveryReply = (): Reply => {
    const signingAlgs = [...new Set(entries.filter((k) => k.published).map((k) => k.alg))];
    const document = withoutUndefined({
      issuer: iss,
      jwks_uri: jwksUri,
      authorization_endpoint: `${url}/authorize`,
      token_endpoint: `${url}/token`,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: signingAlgs,
      ...discoveryOverrides,
    });
    return {
      status: 200,
      contentType: "application/json",
      body: JSON.stringify(document),
      headers: documentHeaders(),
    };
  };

  const takeFault = (endpoint: "jwks" | "discovery"): FaultSpec | null => {
    const active = faults[endpoint];
    if (active === null) return null;
    if (active.remaining !== null) {
      active.remaining -= 1;
      if (active.remaining <= 0) {
        if (faults.jwks === active) faults.jwks = null;
        if (faults.discovery === active) faults.discovery = null;
      }
    }
    return active.spec;
  };

  const schedule = (fn: () => void, ms: number): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    counts.total += 1;
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const endpoint = path === JWKS_PATH ? "jwks" : path === DISCOVERY_PATH ? "discovery" : null;
    if (endpoint === null) {
      send(res, { status: 404, contentType: "text/plain", body: "not found" });
      return;
    }
    counts[endpoint] += 1;
    if (req.method !== "GET") {
      send(res, {
        status: 405,
        contentType: "text/plain",
        body: "method not allowed",
        headers: { allow: "GET" },
      });
      return;
    }
    const normal = endpoint === "jwks" ? jwksReply : discoveryReply;
    const fault = takeFault(endpoint);
    if (fault === null) {
      send(res, normal());
      return;
    }
    const context: FaultContext = { req, res, normal, publishedJwks, schedule };
    serveFault(fault, context);
  };

  const server = createServer(handle);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  const iss = options.issuer ?? url;
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const jwksUri = `${url}${JWKS_PATH}`;
  const discoveryUri = `${url}${DISCOVERY_PATH}`;
  const defaultClaims = options.defaultClaims ?? {};

  const pickKey = (signOptions: SignOptions): TestKey => {
    if (typeof signOptions.kid === "string") {
      const kid = signOptions.kid;
      const found = entries.findLast((key) => key.kid === kid);
      if (found === undefined) throw new Error(`test issuer holds no key with kid "${kid}"`);
      return found;
    }
    const alg = signOptions.alg ?? defaultAlg;
    const signer = signers.get(alg);
    if (signer === undefined) {
      throw new Error(`test issuer has no ${alg} key; add it to options.algorithms or addKey()`);
    }
    return signer;
  };

  const closeServer = async (): Promise<void> => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  return {
    url,
    issuer: iss,
    audience,
    jwksUri,
    discoveryUri,
    get keys(): readonly TestKey[] {
      return entries.map((key) => ({ ...key }));
    },
    requests: counts,
    resetRequestCounts(): void {
      counts.jwks = 0;
      counts.discovery = 0;
      counts.total = 0;
    },
    async sign(claims = {}, signOptions = {}): Promise<string> {
      const key = pickKey(signOptions);
      const now = Math.floor(Date.now() / 1000);
      const expiresInSec =
        signOptions.expiresInSec === undefined ? lifetimeSec : signOptions.expiresInSec;
      const payload = withoutUndefined({
        iss,
        aud: audience,
        sub: "user-123",
        iat: now + (signOptions.issuedAtSec ?? 0),
        ...(expiresInSec === null ? {} : { exp: now + expiresInSec }),
        ...(signOptions.notBeforeSec === undefined ? {} : { nbf: now + signOptions.notBeforeSec }),
        jti: randomUUID(),
        ...defaultClaims,
        ...claims,
      });
      const header = withoutUndefined({
        alg: key.alg,
        typ: "JWT",
        ...(signOptions.kid === null ? {} : { kid: key.kid }),
        ...signOptions.header,
      });
      return signCompact(header, payload, key.privateKey, key.alg);
    },
    async rotate(rotateOptions = {}): Promise<TestKey> {
      const alg = rotateOptions.alg ?? defaultAlg;
      const key = await createKey(alg, undefined, {});
      key.published = true;
      entries.push(key);
      const previous = signers.get(alg);
      signers.set(alg, key);
      if (rotateOptions.retireOld === true && previous !== undefined) previous.published = false;
      return { ...key };
    },
    async addKey(alg, addOptions = {}): Promise<TestKey> {
      validateAlgorithms([alg]);
      const shape = {
        ...(addOptions.use === undefined ? {} : { use: addOptions.use }),
        ...(addOptions.omitAlg === undefined ? {} : { omitAlg: addOptions.omitAlg }),
      };
      const key = await createKey(alg, addOptions.kid, shape);
      key.published = addOptions.publish ?? true;
      entries.push(key);
      if (!signers.has(alg)) signers.set(alg, key);
      return { ...key };
    },
    unpublish(kid: string): void {
      let found = false;
      for (const key of entries) {
        if (key.kid === kid) {
          key.published = false;
          found = true;
        }
      }
      for (let i = extraJwks.length - 1; i >= 0; i -= 1) {
        if (extraJwks[i]?.kid === kid) {
          extraJwks.splice(i, 1);
          found = true;
        }
      }
      if (!found) throw new Error(`test issuer publishes no key with kid "${kid}"`);
    },
    publish(kid: string): void {
      const matching = entries.filter((key) => key.kid === kid);
      if (matching.length === 0) throw new Error(`test issuer holds no key with kid "${kid}"`);
      for (const key of matching) key.published = true;
    },
    publishJwk(jwk: Record<string, unknown>): void {
      extraJwks.push({ ...jwk });
    },
    setFault(fault, faultOptions = {}): void {
      const endpoint = faultOptions.endpoint ?? "all";
      const times = faultOptions.times;
      if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
        throw new RangeError("times must be a positive integer");
      }
      const active: ActiveFault | null =
        fault === null ? null : { spec: fault, remaining: times ?? null };
      if (endpoint === "jwks" || endpoint === "all") faults.jwks = active;
      if (endpoint === "discovery" || endpoint === "all") faults.discovery = active;
    },
    setCacheControl(value: string | null): void {
      cacheControl = value;
    },
    setDiscovery(overrides: Record<string, unknown> | null): void {
      discoveryOverrides = overrides === null ? null : { ...overrides };
    },
    close(): Promise<void> {
      closing ??= closeServer();
      return closing;
    },
  };
}

function validateAlgorithms(algorithms: readonly TestAlgorithm[]): TestAlgorithm[] {
  if (algorithms.length === 0) throw new RangeError("algorithms must name at least one algorithm");
  for (const alg of algorithms) {
    if (!TEST_ALGORITHMS.includes(alg)) throw new TypeError(`unsupported test algorithm "${alg}"`);
  }
  return [...new Set(algorithms)];
}
