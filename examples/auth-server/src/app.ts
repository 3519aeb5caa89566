import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ASYMMETRIC_ALGORITHMS,
  createMemoryReplayStore,
  DPOP_DEFAULTS,
  DpopProofError,
  type RevocationList,
  verifyDpopProof,
} from "@meishi/core";
import { jwtAuth, requireRole } from "@meishi/express";
import express, { type Express, type Request, type RequestHandler } from "express";
import { createLocalJWKSet, jwtVerify } from "jose";
import { signAccessToken } from "./access-tokens.js";
import { type AuthServerConfig, resolveConfig } from "./config.js";
import { openDatabase } from "./database.js";
import { KeyStore, type RotationResult } from "./key-store.js";
import { errorHandler, OAuthError } from "./oauth-error.js";
import {
  type IssuedRefreshToken,
  type RefreshFailure,
  RefreshTokenStore,
} from "./refresh-tokens.js";
import { createUserDirectory, type User } from "./users.js";

/** A bound HTTP listener. */
export interface ListeningServer {
  /** Base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** Stops accepting connections and waits for open requests to finish. */
  close(): Promise<void>;
}

/** What `createAuthServer` returns. */
export interface AuthServer {
  /** The Express app, to mount elsewhere or drive with supertest. */
  readonly app: Express;
  /** The `iss` of issued tokens. With port 0 and no `issuer` option, known after `listen()`. */
  readonly issuer: string;
  /** The `aud` of issued access tokens. */
  readonly audience: string;
  /** The SQLite file holding keys and refresh tokens. */
  readonly databasePath: string;
  /** Binds `host:port` (config) and serves the app. */
  listen(): Promise<ListeningServer>;
  /** One key-rotation step, as `POST /admin/rotate-keys` does. */
  rotateKeys(): Promise<RotationResult>;
  /** Closes every listener and the database; deletes the database if it was a temp file. */
  close(): Promise<void>;
}

/** The token response of RFC 6749 §5.1 (`token_type: "DPoP"` for a DPoP-bound token). */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer" | "DPoP";
  expires_in: number;
  refresh_token: string;
}

const BODY_LIMIT = "8kb";
const MAX_FIELD_LENGTH = 1024;

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" && value !== "" && value.length <= MAX_FIELD_LENGTH
    ? value
    : undefined;
}

const REFRESH_FAILURES: Record<RefreshFailure, string> = {
  unknown: "refresh token is invalid",
  expired: "refresh token has expired",
  family_expired: "refresh token has expired: the session has reached its maximum lifetime",
  revoked: "refresh token has been revoked",
  // Same words as "revoked": whoever replays a rotated token learns nothing useful.
  reused: "refresh token has been revoked",
  dpop_key_mismatch: "refresh token is bound to another DPoP key",
};

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Builds the teaching issuer: password login, RS256 access tokens, rotating refresh tokens,
 * JWKS with key rotation, and `/admin/*` protected by meishi itself. Keys and refresh tokens
 * live in SQLite, so a restart on the same file keeps every issued token valid.
 *
 * @throws {TypeError} for an invalid option.
 * @example
 * const server = createAuthServer({ port: 0 });
 * const { url } = await server.listen();
 * const res = await fetch(`${url}/login`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ username: "omochi", password: "mochi-mochi" }),
 * });
 */
export function createAuthServer(config: AuthServerConfig = {}): AuthServer {
  const options = resolveConfig(config);
  const temporary = options.database === undefined;
  const databasePath =
    options.database ?? join(tmpdir(), `meishi-auth-server-${randomBytes(8).toString("hex")}.db`);
  const db = openDatabase(databasePath);
  const keys = new KeyStore(db, options);
  const refreshTokens = new RefreshTokenStore(db, {
    now: options.now,
    ttlSec: options.refreshTokenTtlSec,
    familyTtlSec: options.refreshFamilyAbsoluteTtlSec,
  });
  const users = createUserDirectory(options.users);

  let issuer = options.issuer;
  let selfUrl: string | undefined;
  const currentIssuer = (): string => {
    if (issuer === undefined)
      throw new Error("the issuer is not known before listen() when port is 0");
    return issuer;
  };

  async function tokenResponse(
    user: User,
    { refreshToken, familyId }: IssuedRefreshToken,
    jkt: string | undefined,
  ): Promise<TokenResponse> {
    const accessToken = await signAccessToken(user, {
      issuer: currentIssuer(),
      audience: options.audience,
      ttlSec: options.accessTokenTtlSec,
      now: options.now(),
      signingKey: keys.signingKey(),
      sessionId: familyId,
      jkt,
    });
    return {
      access_token: accessToken,
      token_type: jkt === undefined ? "Bearer" : "DPoP",
      expires_in: options.accessTokenTtlSec,
      refresh_token: refreshToken,
    };
  }

  // Proofs seen at the token endpoints, so a captured login or refresh proof can't be replayed.
  const dpopReplay = createMemoryReplayStore({ max: 10_000 });

  /**
   * The thumbprint of the request's DPoP key (RFC 9449 §5), checked with meishi's own proof
   * verification; `undefined` when the client sent no proof (a plain Bearer client).
   */
  async function dpopKeyOf(req: Request): Promise<string | undefined> {
    const header = req.headers.dpop;
    if (header === undefined) return undefined;
    const several = req.rawHeaders.filter(
      (_, i) => i % 2 === 0 && /^dpop$/i.test(req.rawHeaders[i] ?? ""),
    );
    if (typeof header !== "string" || several.length > 1 || header.includes(",")) {
      throw new OAuthError(400, "invalid_dpop_proof", "exactly one DPoP proof is required");
    }
    try {
      const proof = await verifyDpopProof(header.trim(), {
        method: req.method,
        url: `${currentIssuer().replace(/\/$/, "")}${req.path}`,
        algorithms: ASYMMETRIC_ALGORITHMS,
      });
      const expiresAtSec =
        proof.iat + DPOP_DEFAULTS.proofMaxAgeSec + DPOP_DEFAULTS.clockToleranceSec;
      if (await dpopReplay.seen(`${proof.jkt}:${proof.jti}`, expiresAtSec)) {
        throw new OAuthError(400, "invalid_dpop_proof", "the DPoP proof was already used");
      }
      return proof.jkt;
    } catch (error) {
      if (error instanceof DpopProofError) {
        throw new OAuthError(400, "invalid_dpop_proof", error.message);
      }
      throw error;
    }
  }

  const app = express();
  app.disable("x-powered-by");
  app.use((_req, res, next) => {
    // RFC 6749 §5.1: token responses must not be cached. The well-known routes override this.
    res.set({
      "Cache-Control": "no-store",
      Pragma: "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    next();
  });
  const json = express.json({ limit: BODY_LIMIT });

  app.post("/login", json, async (req, res) => {
    const username = field(req.body, "username");
    const password = field(req.body, "password");
    if (username === undefined || password === undefined) {
      throw new OAuthError(
        400,
        "invalid_request",
        "a JSON body with username and password is required",
      );
    }
    const jkt = await dpopKeyOf(req);
    const user = await users.authenticate(username, password);
    // One answer for "no such user" and "wrong password", so usernames can't be probed.
    if (user === undefined)
      throw new OAuthError(401, "invalid_grant", "invalid username or password");
    const response = await tokenResponse(user, refreshTokens.issue(user.sub, jkt), jkt);
    res.json(response);
  });

  // JSON, or the form encoding of RFC 6749 §6 that OAuth client libraries send to the
  // token_endpoint advertised in the discovery document.
  app.post(
    "/token/refresh",
    json,
    express.urlencoded({ extended: false, limit: BODY_LIMIT }),
    async (req, res) => {
      const grantType = field(req.body, "grant_type");
      if (grantType !== undefined && grantType !== "refresh_token") {
        throw new OAuthError(
          400,
          "unsupported_grant_type",
          "only grant_type=refresh_token is supported",
        );
      }
      const presented = field(req.body, "refresh_token");
      if (presented === undefined)
        throw new OAuthError(400, "invalid_request", "refresh_token is required");
      const jkt = await dpopKeyOf(req);
      const result = refreshTokens.rotate(presented, jkt);
      if (!result.ok) throw new OAuthError(400, "invalid_grant", REFRESH_FAILURES[result.reason]);
      // The role is read again from the directory: a changed role reaches the next access token.
      const user = users.find(result.sub);
      if (user === undefined) {
        refreshTokens.revokeFamily(result.familyId, "user removed");
        throw new OAuthError(400, "invalid_grant", REFRESH_FAILURES.revoked);
      }
      // A bound login stays bound; an unbound one gets a bound access token when a proof came.
      res.json(await tokenResponse(user, result, result.jkt ?? jkt));
    },
  );

  /**
   * Writes to the revocation list, if there is one. A write Redis could not take is a 503: the
   * client retries, and revoking again is harmless.
   */
  async function publish(write: (list: RevocationList) => Promise<void>): Promise<boolean> {
    if (options.revocation === undefined) return false;
    try {
      await write(options.revocation);
      return true;
    } catch (error) {
      options.onError(error);
      throw new OAuthError(
        503,
        "temporarily_unavailable",
        "the revocation could not be published; retry",
      );
    }
  }

  /**
   * The `jti` and `exp` of the access token in the Authorization header, if it is one of this
   * server's, valid, and of session `sid`. Anything else is ignored: revoking the session
   * refuses it anyway, and nobody can fill the list with made-up `jti`s.
   */
  async function accessTokenOf(
    req: Request,
    sid: string,
  ): Promise<{ jti: string; exp: number } | undefined> {
    const match = /^(?:Bearer|DPoP) ([\w.~+/-]+=*)$/i.exec(req.headers.authorization ?? "");
    if (match === null) return undefined;
    try {
      const { payload } = await jwtVerify(
        match[1]!,
        createLocalJWKSet({ keys: keys.publishedKeys() }),
        {
          issuer: currentIssuer(),
          audience: options.audience,
          algorithms: ["RS256"],
          typ: "at+jwt",
          currentDate: new Date(options.now()),
        },
      );
      const { jti, exp } = payload;
      return payload.sid === sid && typeof jti === "string" && typeof exp === "number"
        ? { jti, exp }
        : undefined;
    } catch {
      return undefined;
    }
  }

  app.post("/logout", json, async (req, res) => {
    const presented = field(req.body, "refresh_token");
    if (presented === undefined)
      throw new OAuthError(400, "invalid_request", "refresh_token is required");
    // Like RFC 7009 §2.2, an unknown token is not an error: the outcome the client wants holds.
    const sid = refreshTokens.revokeByToken(presented, "logout");
    if (sid !== undefined) {
      const issuer = currentIssuer();
      const accessToken = await accessTokenOf(req, sid);
      const nowSec = Math.floor(options.now() / 1000);
      await publish(async (list) => {
        if (accessToken !== undefined) {
          await list.revokeToken({ issuer, jti: accessToken.jti, expiresAt: accessToken.exp });
        }
        // The family's id is the `sid` of every access token it issued. The last of them can
        // be minted at the family's end and live one access-token lifetime past it.
        await list.revokeSession({
          issuer,
          sid,
          expiresAt: nowSec + options.refreshFamilyAbsoluteTtlSec + options.accessTokenTtlSec,
        });
      });
    }
    res.status(204).end();
  });

  app.get("/.well-known/jwks.json", (_req, res) => {
    // Short caching: verifiers see a new `next` key within a minute.
    res.set("Cache-Control", "public, max-age=60").removeHeader("Pragma");
    res.json({ keys: keys.publishedKeys() });
  });

  app.get("/.well-known/openid-configuration", (_req, res) => {
    const iss = currentIssuer();
    res.set("Cache-Control", "public, max-age=60").removeHeader("Pragma");
    res.json({
      issuer: iss,
      jwks_uri: `${iss}/.well-known/jwks.json`,
      token_endpoint: `${iss}/token/refresh`,
      grant_types_supported: ["refresh_token"],
      token_endpoint_auth_methods_supported: ["none"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      dpop_signing_alg_values_supported: [...ASYMMETRIC_ALGORITHMS],
      claims_supported: ["iss", "aud", "sub", "name", "role", "sid", "iat", "exp", "jti", "cnf"],
    });
  });

  // The server checks its own business cards with meishi, through its own JWKS, like any API.
  // Built on first use, because with port 0 the URL exists only after listen().
  let adminAuth: RequestHandler | undefined;
  const admin = express.Router();
  admin.use((req, res, next) => {
    adminAuth ??= jwtAuth({
      // A revoked admin card is refused here too.
      ...(options.revocation === undefined ? {} : { revocation: options.revocation }),
      jwksUri: `${selfUrl ?? currentIssuer()}/.well-known/jwks.json`,
      issuer: currentIssuer(),
      audience: options.audience,
      algorithms: ["RS256"],
      typ: "at+jwt",
      realm: "auth-server admin",
      // An admin who logged in with DPoP sends the card with its proof.
      dpop: { mode: "allowed", publicOrigin: new URL(currentIssuer()).origin },
    });
    adminAuth(req, res, next);
  }, requireRole("admin"));
  admin.post("/rotate-keys", async (_req, res) => {
    res.json(await keys.rotate());
  });
  // Revoke a user everywhere: every refresh token, and every access token issued until now.
  admin.post("/users/:sub/revoke", async (req, res) => {
    const sub = req.params.sub ?? "";
    if (users.find(sub) === undefined) throw new OAuthError(404, "not_found", "no such user");
    const refreshFamilies = refreshTokens.revokeSubject(sub, "admin revoke");
    const issuedBefore = options.now() / 1000;
    const published = await publish((list) =>
      list.revokeSubject({ issuer: currentIssuer(), sub, issuedBefore }),
    );
    res.json({
      sub,
      revoked_refresh_families: refreshFamilies,
      access_tokens_issued_before: new Date(issuedBefore * 1000).toISOString(),
      // false without a revocation list: the access tokens already issued live until `exp`.
      access_tokens_revoked: published,
    });
  });
  admin.get("/keys", (_req, res) => {
    res.json({ keys: keys.list() });
  });
  app.use("/admin", admin);

  app.use((_req, _res) => {
    throw new OAuthError(404, "not_found", "no such endpoint");
  });
  app.use(errorHandler(options.onError));

  const servers = new Set<Server>();
  let closed = false;

  async function stop(server: Server): Promise<void> {
    if (!servers.delete(server)) return;
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
    });
  }

  return {
    app,
    get issuer() {
      return currentIssuer();
    },
    audience: options.audience,
    databasePath,
    async listen() {
      if (closed) throw new Error("the auth server is closed");
      const server = createServer(app);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port, options.host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      servers.add(server);
      const { port } = server.address() as AddressInfo;
      const url = `http://${urlHost(options.host)}:${port}`;
      issuer ??= `http://127.0.0.1:${port}`;
      selfUrl ??= url;
      return { url, close: () => stop(server) };
    },
    rotateKeys: () => keys.rotate(),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...servers].map(stop));
      db.close();
      if (temporary) {
        for (const suffix of ["", "-journal", "-wal", "-shm"])
          rmSync(databasePath + suffix, { force: true });
      }
    },
  };
}
