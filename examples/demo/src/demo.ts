// The article's story, runnable: one auth server signs business cards (JWTs), three APIs on
// three frameworks each check them alone against its JWKS. Every step checks what came back,
// and the demo exits non-zero the moment anything misbehaves.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  base64url,
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from "jose";
import {
  bold,
  cyan,
  dim,
  indentJson,
  red,
  say,
  shortToken,
  statusText,
  step,
  yellow,
} from "./print.js";
import {
  freePort,
  type RedisForDemo,
  type Service,
  startRedis,
  startService,
} from "./processes.js";

const AUDIENCE = "https://api.meishi.example";

interface Reply {
  status: number;
  body: unknown;
  challenge: string | null;
}

class StepFailed extends Error {}

function check(condition: boolean, what: string): void {
  if (!condition) throw new StepFailed(what);
}

function script(example: string, file: string): string {
  return fileURLToPath(new URL(`../../${example}/dist/${file}`, import.meta.url));
}

async function call(
  method: "GET" | "POST",
  url: string,
  options: {
    token?: string;
    json?: unknown;
    label?: string;
    /** Send the token with the DPoP scheme and this proof. */
    dpop?: string;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) {
    headers.authorization = `${options.dpop === undefined ? "Bearer" : "DPoP"} ${options.token}`;
  }
  if (options.dpop !== undefined) headers.dpop = options.dpop;
  if (options.json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // Not JSON: show it as text.
  }
  const challenge = response.headers.get("www-authenticate");
  const path = new URL(url).pathname;
  const label = options.label === undefined ? "" : `${cyan(options.label.padEnd(8))} `;
  const summary = typeof body === "string" ? body : JSON.stringify(body);
  say(`${label}${method} ${path} → ${statusText(response.status)} ${dim(summary.slice(0, 110))}`);
  if (challenge !== null && response.status >= 400)
    say(`${" ".repeat(9)}${dim(`WWW-Authenticate: ${challenge}`)}`);
  return { status: response.status, body, challenge };
}

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

function field(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  check(typeof value === "string", `expected a string "${name}" in ${JSON.stringify(body)}`);
  return value as string;
}

async function login(auth: Service, username: string, password: string) {
  const reply = await call("POST", `${auth.url}/login`, {
    json: { username, password },
    label: "auth",
  });
  check(reply.status === 200, `login as ${username} should succeed`);
  return { access: field(reply.body, "access_token"), refresh: field(reply.body, "refresh_token") };
}

/**
 * A DPoP client as an app would write it with jose: a key pair that never leaves the client,
 * and a fresh signed proof (RFC 9449 §4.2) for every request.
 */
async function dpopClient() {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const jwk: JWK = { kty: kty!, crv: crv!, x: x!, y: y! };
  const jkt = await calculateJwkThumbprint(jwk);
  async function proof(method: string, url: string, accessToken?: string): Promise<string> {
    const claims: Record<string, unknown> = { htm: method, htu: url, jti: randomUUID() };
    if (accessToken !== undefined) {
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
      claims.ath = base64url.encode(new Uint8Array(digest));
    }
    return new SignJWT(claims)
      .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk })
      .setIssuedAt()
      .sign(privateKey as CryptoKey);
  }
  return { jkt, proof };
}

async function everyApi(
  apis: Service[],
  path: string,
  token: string | undefined,
  expected: number,
) {
  for (const api of apis) {
    const reply = await call("GET", `${api.url}${path}`, {
      ...(token === undefined ? {} : { token }),
      label: api.name,
    });
    check(
      reply.status === expected,
      `${api.name} ${path} should answer ${expected}, got ${reply.status}`,
    );
  }
}

/** How long a revocation may take to reach an API before the step fails. */
const PROPAGATION_DEADLINE_MS = 5_000;

/**
 * Asks every API, all at once and as fast as each answers, until it refuses `token`, and
 * prints how long after `since` (performance.now()) each refused it: one line per API.
 */
async function untilEveryApiRefuses(apis: Service[], token: string, since: number) {
  await Promise.all(
    apis.map(async (api) => {
      let requests = 0;
      for (;;) {
        requests += 1;
        const response = await fetch(`${api.url}/me`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await response.body?.cancel();
        const elapsedMs = performance.now() - since;
        if (response.status === 401) {
          say(
            `${cyan(api.name.padEnd(8))} 401 ${bold(`${elapsedMs.toFixed(1)} ms`)} after the auth server answered ${dim(`(${requests} request${requests === 1 ? "" : "s"})`)}`,
          );
          return;
        }
        check(
          response.status === 200,
          `${api.name} should answer 200 or 401, got ${response.status}`,
        );
        check(
          elapsedMs < PROPAGATION_DEADLINE_MS,
          `${api.name} still accepted the revoked card after ${PROPAGATION_DEADLINE_MS} ms`,
        );
      }
    }),
  );
}

async function startEverything(
  redis: RedisForDemo | undefined,
): Promise<{ auth: Service; apis: Service[] }> {
  // Every process shares the demo's Redis, or none does (even if the shell exported one).
  const revocation = { REDIS_URL: redis?.url ?? "" };
  const authPort = await freePort();
  const issuer = `http://127.0.0.1:${authPort}`;
  const auth = await startService(
    "auth",
    script("auth-server", "server.js"),
    { PORT: String(authPort), ISSUER: issuer, AUDIENCE, ...revocation },
    issuer,
    `${issuer}/.well-known/jwks.json`,
  );
  const apis = await Promise.all(
    (["express", "koa", "fastify"] as const).map(async (framework) => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      return startService(
        framework,
        script(`${framework}-api`, "server.js"),
        {
          PORT: String(port),
          JWKS_URI: `${issuer}/.well-known/jwks.json`,
          ISSUER: issuer,
          AUDIENCE,
          PUBLIC_URL: url,
          ...revocation,
        },
        url,
        `${url}/health`,
      );
    }),
  );
  return { auth, apis };
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(bold("meishi 名刺 — a JWT is a business card nobody can forge"));
  say(dim("Starting an auth server and three APIs (Express, Koa, Fastify) on loopback…"));
  const redis = await startRedis();
  const { auth, apis } = await startEverything(redis);
  say(`auth server ${auth.url}; APIs ${apis.map((api) => `${api.name} ${api.url}`).join(", ")}`);
  if (redis !== undefined) {
    say(`revocations shared through Redis ${redis.url} ${dim(`(${redis.source})`)}`);
  }

  step("omochi logs in; the card is only Base64URL: anyone can read it");
  const omochi = await login(auth, "omochi", "mochi-mochi");
  const [headerPart, payloadPart, signaturePart] = omochi.access.split(".");
  check(signaturePart !== undefined, "the access token should have three parts");
  const header = decodePart(headerPart!);
  const payload = decodePart(payloadPart!);
  say(`token ${dim(shortToken(omochi.access))}`);
  say(`header  (just base64url):\n${indentJson(header)}`);
  say(`payload (just base64url):\n${indentJson(payload)}`);
  say(
    dim(
      "Readable by anyone — so never put secrets in it, and always use HTTPS. What nobody can do is change it.",
    ),
  );
  check(header.alg === "RS256" && typeof header.kid === "string", "RS256 with a kid");
  check(payload.role === "standard user" && payload.name === "omochi", "omochi is a standard user");

  step("The same card works at every API: each verifies it alone, with no shared session");
  await everyApi(apis, "/me", omochi.access, 200);
  await everyApi(apis, "/orders", omochi.access, 200);
  await everyApi(apis, "/me", undefined, 401);

  step('/admin is for role "admin": 403 for a standard user, 200 for admin');
  await everyApi(apis, "/admin", omochi.access, 403);
  const admin = await login(auth, "admin", "admin-pass");
  await everyApi(apis, "/admin", admin.access, 200);

  step('A forged card: the payload edited to say "role": "admin"');
  const forgedPayload = Buffer.from(JSON.stringify({ ...payload, role: "admin" })).toString(
    "base64url",
  );
  const forged = `${headerPart}.${forgedPayload}.${signaturePart}`;
  say(`edited payload ${dim(shortToken(forged))} — the signature no longer matches`);
  await everyApi(apis, "/admin", forged, 401);

  step("Key rotation: old cards keep working, new cards carry the new kid, no API restarts");
  const rotated = await call("POST", `${auth.url}/admin/rotate-keys`, {
    token: admin.access,
    label: "auth",
  });
  check(rotated.status === 200, "rotation should succeed for admin");
  const newKid = field(rotated.body, "current_kid");
  check(newKid !== header.kid, "the signing key should change");
  await everyApi(apis, "/me", omochi.access, 200);
  const afterRotation = await login(auth, "omochi", "mochi-mochi");
  const rotatedKid = decodePart(afterRotation.access.split(".")[0]!).kid;
  say(`old kid ${dim(String(header.kid))} → new kid ${bold(String(rotatedKid))}`);
  check(rotatedKid === newKid, "new tokens should carry the new kid");
  await everyApi(apis, "/me", afterRotation.access, 200);

  step("Refresh: a new short-lived card; reusing an old refresh token kills the whole family");
  const refreshed = await call("POST", `${auth.url}/token/refresh`, {
    json: { refresh_token: omochi.refresh },
    label: "auth",
  });
  check(refreshed.status === 200, "refresh should succeed once");
  const newRefresh = field(refreshed.body, "refresh_token");
  await everyApi(apis, "/me", field(refreshed.body, "access_token"), 200);
  say(dim("Now someone replays the old refresh token (stolen, say)…"));
  const replay = await call("POST", `${auth.url}/token/refresh`, {
    json: { refresh_token: omochi.refresh },
    label: "auth",
  });
  check(replay.status === 400, "a reused refresh token should be refused");
  const familyDead = await call("POST", `${auth.url}/token/refresh`, {
    json: { refresh_token: newRefresh },
    label: "auth",
  });
  check(
    familyDead.status === 400,
    "reuse should revoke the newest refresh token of the family too",
  );
  say(dim("Both thief and owner must log in again: the reuse gave the theft away."));

  if (redis === undefined) {
    step("Logout: the refresh token dies; the access token lives on until it expires");
  } else {
    step("Logout: the refresh token dies, and every API refuses the card within milliseconds");
  }
  const session = await login(auth, "omochi", "mochi-mochi");
  await everyApi(apis, "/me", session.access, 200);
  // The card goes along, so the auth server can revoke it by its jti (and the session by sid).
  const logout = await call("POST", `${auth.url}/logout`, {
    json: { refresh_token: session.refresh },
    token: session.access,
    label: "auth",
  });
  const loggedOutAt = performance.now();
  check(logout.status === 204 || logout.status === 200, "logout should succeed");
  if (redis !== undefined) {
    say(dim("The auth server published the revocation; each API hears it over Redis pub/sub:"));
    await untilEveryApiRefuses(apis, session.access, loggedOutAt);
    await everyApi(apis, "/me", session.access, 401);
  }
  const afterLogout = await call("POST", `${auth.url}/token/refresh`, {
    json: { refresh_token: session.refresh },
    label: "auth",
  });
  check(afterLogout.status === 400, "the refresh token should be dead after logout");
  if (redis === undefined) {
    await everyApi(apis, "/me", session.access, 200);
    const exp = Number(decodePart(session.access.split(".")[1]!).exp);
    const secondsLeft = Math.round(exp - Date.now() / 1000);
    say(
      `The APIs keep no session, so there is nothing to cut: this card is valid for ${bold(`${secondsLeft} s`)} more.`,
    );
    say(dim("That is why access tokens live minutes, not days, and refresh tokens do the rest."));
  } else {
    say(
      dim(
        "Each API still checks the card alone; it only also keeps a copy of the deny-list, fed by Redis.",
      ),
    );
  }

  step("DPoP: a card bound to omochi's key is worthless to anyone who copies it");
  const holder = await dpopClient();
  const loginProof = await holder.proof("POST", `${auth.url}/login`);
  const bound = await call("POST", `${auth.url}/login`, {
    json: { username: "omochi", password: "mochi-mochi" },
    dpop: loginProof,
    label: "auth",
  });
  check(bound.status === 200, "a DPoP login should succeed");
  check(field(bound.body, "token_type") === "DPoP", "the token type should be DPoP");
  const boundCard = field(bound.body, "access_token");
  const cnf = decodePart(boundCard.split(".")[1]!).cnf as { jkt?: unknown } | undefined;
  say(`cnf.jkt ${bold(String(cnf?.jkt))} = the thumbprint of omochi's public key`);
  check(cnf?.jkt === holder.jkt, "the card should be bound to the holder's key");
  for (const api of apis) {
    const url = `${api.url}/orders`;
    const own = await call("GET", url, {
      token: boundCard,
      dpop: await holder.proof("GET", url, boundCard),
      label: api.name,
    });
    check(own.status === 200, `${api.name}: the holder's request with a fresh proof should pass`);
  }
  say(dim("Someone copies the card (a log line, a proxy, a leaky extension)…"));
  const thief = await dpopClient();
  for (const api of apis) {
    const url = `${api.url}/orders`;
    const asBearer = await call("GET", url, { token: boundCard, label: api.name });
    check(asBearer.status === 401, `${api.name}: a bound card sent as Bearer should be refused`);
    const withOwnKey = await call("GET", url, {
      token: boundCard,
      dpop: await thief.proof("GET", url, boundCard),
      label: api.name,
    });
    check(withOwnKey.status === 401, `${api.name}: the thief's own proof should be refused`);
  }
  say(dim("…and replays a proof it captured along with the card:"));
  for (const api of apis) {
    const url = `${api.url}/me`;
    const captured = await holder.proof("GET", url, boundCard);
    const first = await call("GET", url, { token: boundCard, dpop: captured, label: api.name });
    check(first.status === 200, `${api.name}: the holder's request should pass`);
    const replayed = await call("GET", url, { token: boundCard, dpop: captured, label: api.name });
    check(replayed.status === 401, `${api.name}: a replayed proof should be refused`);
  }
  say(dim("Only the private key makes proofs, and it never left omochi's client."));

  if (redis === undefined) {
    say(
      yellow(
        'Skipped the kill switch (step 7\'s instant logout, step 9 "revoke everywhere"): no Redis. Get it: apt-get install redis-server | brew install redis | docker run -p 6379:6379 redis, then REDIS_URL=redis://127.0.0.1:6379 pnpm demo',
      ),
    );
  } else {
    step("Revoke everywhere: an admin cuts omochi off on every device, at every API");
    const phone = await login(auth, "omochi", "mochi-mochi");
    const laptop = await login(auth, "omochi", "mochi-mochi");
    await everyApi(apis, "/me", laptop.access, 200);
    const boss = await login(auth, "admin", "admin-pass");
    const sub = String(payload.sub);
    const revoked = await call("POST", `${auth.url}/admin/users/${sub}/revoke`, {
      token: boss.access,
      label: "auth",
    });
    const revokedAt = performance.now();
    check(revoked.status === 200, "admin should be able to revoke a user");
    await untilEveryApiRefuses(apis, laptop.access, revokedAt);
    await everyApi(apis, "/me", phone.access, 401);
    const phoneRefresh = await call("POST", `${auth.url}/token/refresh`, {
      json: { refresh_token: phone.refresh },
      label: "auth",
    });
    check(phoneRefresh.status === 400, "the user's refresh tokens should be dead too");
    await everyApi(apis, "/me", boss.access, 200);
    say(dim("Every card omochi held is refused; the admin's own card still works."));
  }

  console.log(
    `\n${bold("All steps behaved.")} ${dim(`(${((Date.now() - started) / 1000).toFixed(1)} s)`)}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof StepFailed ? `Step failed: ${error.message}` : String(error);
    console.error(`\n${red(message)}`);
    process.exit(1);
  },
);
