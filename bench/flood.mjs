// Hostile-input flood: 100,000 distinct bad tokens through meishi's core verifier, then 10,000
// bad requests through the Fastify adapter, recording JWKS fetches, memory, statuses and time.
//
//   node flood.mjs [--quick]      (re-spawns itself with --expose-gc to measure memory)
//   env: BENCH_FLOOD_TOKENS (default 100000), BENCH_FLOOD_HTTP (default 10000),
//        BENCH_FLOOD_CONCURRENCY (in-flight verifications, default 100)
//
// Every bad token must be answered 401: any other status (above all a 5xx or an unexpected
// throw) is reported and makes the script exit non-zero. Nothing here asserts on timing.
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { fileURLToPath } from "node:url";

if (typeof globalThis.gc !== "function") {
  // Memory figures need a forced GC between phases: run this file again with --expose-gc.
  const child = spawn(
    process.execPath,
    [...process.execArgv, "--expose-gc", fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  const kill = () => child.kill("SIGTERM");
  process.on("exit", kill);
  process.once("SIGINT", kill);
  process.once("SIGTERM", kill);
  child.on("exit", (code, signal) => {
    process.off("exit", kill);
    process.exit(code ?? (signal ? 1 : 0));
  });
} else {
  await runFlood();
}

async function runFlood() {
  const { createVerifier } = await import("@meishi/core");
  const { default: meishi } = await import("@meishi/fastify");
  const { createTestIssuer } = await import("@meishi/testing");
  const { default: Fastify } = await import("fastify");
  const lib = await import("./lib.mjs");
  const { cleanup, commandLine, fmt, machine, onCleanup, table, today, writeResults } = lib;

  const quick = process.argv.includes("--quick");
  const TOTAL = quick ? 10_000 : Number(process.env.BENCH_FLOOD_TOKENS ?? 100_000);
  const HTTP_TOTAL = quick ? 1_000 : Number(process.env.BENCH_FLOOD_HTTP ?? 10_000);
  const CONCURRENCY = Number(process.env.BENCH_FLOOD_CONCURRENCY ?? 100);
  // Shares of the in-process flood: garbage 40 %, unknown kid 40 %, attacker-signed 20 %.
  const N_GARBAGE = Math.round(TOTAL * 0.4);
  const N_UNKNOWN = Math.round(TOTAL * 0.4);
  const N_ATTACKER = TOTAL - N_GARBAGE - N_UNKNOWN;

  const b64 = (value) =>
    Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
  // Printable ASCII without space and comma, so every value is one credential (a space or a
  // comma makes it a malformed *request*, 400 by design, which is not what this measures).
  const JUNK = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).filter(
    (ch) => ch !== ",",
  );
  const junk = (length) => {
    const bytes = randomBytes(length);
    let out = "";
    for (const byte of bytes) out += JUNK[byte % JUNK.length];
    return out;
  };

  const main = async () => {
    const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
    onCleanup(() => issuer.close());
    const realKid = issuer.keys[0].kid;
    const now = Math.floor(Date.now() / 1000);
    const claims = () => ({
      iss: issuer.issuer,
      aud: issuer.audience,
      sub: `attacker-${randomUUID()}`,
      role: "admin",
      iat: now,
      exp: now + 3600,
      jti: randomUUID(),
    });

    console.log(
      `flood: building ${fmt(TOTAL)} distinct bad tokens (${fmt(N_ATTACKER)} really RSA-signed)…`,
    );
    const garbage = [];
    for (let i = 0; i < N_GARBAGE; i += 1) {
      switch (i % 8) {
        case 0: // printable junk
        case 1:
          garbage.push(junk(1 + (i % 300)));
          break;
        case 2: // three base64url segments of random bytes
          garbage.push(
            `${randomBytes(24).toString("base64url")}.${randomBytes(64).toString("base64url")}.${randomBytes(32).toString("base64url")}`,
          );
          break;
        case 3: // alg none, with the real kid
          garbage.push(`${b64({ alg: "none", kid: realKid })}.${b64(claims())}.`);
          break;
        case 4: // HS256 "signed" with the real kid (algorithm confusion attempt)
          garbage.push(
            `${b64({ alg: "HS256", kid: realKid, typ: "JWT" })}.${b64(claims())}.${randomBytes(32).toString("base64url")}`,
          );
          break;
        case 5: // header that is not JSON
          garbage.push(
            `${b64(`{"alg":"RS256",${junk(20)}`)}.${b64(claims())}.${randomBytes(16).toString("base64url")}`,
          );
          break;
        case 6: // oversized (20 KiB, above the 16 KiB default limit): one in 40 garbage tokens
          garbage.push(
            i % 40 === 6
              ? `${b64({ alg: "RS256", kid: realKid })}.${randomBytes(15_000).toString("base64url")}.x`
              : `${b64({ alg: "RS256", kid: realKid, crit: ["exp"] })}.${b64(claims())}.${randomBytes(256).toString("base64url")}`,
          );
          break;
        default: // kid that is not a string, payload that is not JSON
          garbage.push(
            `${b64({ alg: "RS256", kid: { $gt: "" } })}.${b64(junk(40))}.${randomBytes(256).toString("base64url")}`,
          );
      }
    }
    // Well-formed RS256 tokens whose kid the issuer never published; the signature bytes are
    // random, since no key is ever found to check them with.
    const unknownKid = [];
    for (let i = 0; i < N_UNKNOWN; i += 1) {
      unknownKid.push(
        `${b64({ alg: "RS256", typ: "JWT", kid: randomUUID() })}.${b64(claims())}.${randomBytes(256).toString("base64url")}`,
      );
    }
    // Really signed by an attacker's own 2048-bit RSA key: 70 % carry the issuer's real kid
    // (so the full signature check runs), 15 % a random kid, 15 % no kid.
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const attacker = [];
    for (let i = 0; i < N_ATTACKER; i += 1) {
      const pick = i % 20;
      const header =
        pick < 14
          ? { alg: "RS256", typ: "JWT", kid: realKid }
          : pick < 17
            ? { alg: "RS256", typ: "JWT", kid: randomUUID() }
            : { alg: "RS256", typ: "JWT" };
      const input = `${b64(header)}.${b64(claims())}`;
      attacker.push(
        `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`,
      );
    }

    const good = await issuer.sign({ sub: "legit-user" });
    // Key-source events, tallied (token_rejected is one per bad token, so it is left out).
    /** @type {Record<string, number>} */
    const events = {};
    /** @type {Array<{ type: string, reason?: string, durationMs?: number, message?: string }>} */
    const fetchFailures = [];
    const onEvent = (event) => {
      if (event.type === "token_rejected") return;
      const key =
        event.type === "kid_miss" ? `kid_miss (refetched: ${event.refetched})` : event.type;
      events[key] = (events[key] ?? 0) + 1;
      if (event.type === "jwks_fetch_failed") {
        fetchFailures.push({
          type: event.type,
          reason: event.reason,
          durationMs: Math.round(event.durationMs),
          message: String(event.error?.cause?.message ?? event.error?.message ?? ""),
        });
      }
    };
    const verifier = createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      onEvent,
    });
    await verifier.ready();
    await verifier.verify(good);

    const memory = () => {
      globalThis.gc();
      globalThis.gc();
      const m = process.memoryUsage();
      return { rssMiB: m.rss / 2 ** 20, heapUsedMiB: m.heapUsed / 2 ** 20 };
    };

    /**
     * Run `tokens` through `attempt` with CONCURRENCY in flight; count the statuses.
     * @param {string[]} tokens
     * @param {(token: string) => Promise<number>} attempt resolves to the status
     */
    const flood = async (tokens, attempt) => {
      /** @type {Record<string, number>} */
      const statuses = {};
      let next = 0;
      const worker = async () => {
        while (next < tokens.length) {
          const token = tokens[next];
          next += 1;
          const code = await attempt(token);
          statuses[code] = (statuses[code] ?? 0) + 1;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      return statuses;
    };

    // In-process: what an adapter does for each request, minus the framework.
    const viaCore = async (token) => {
      try {
        await verifier.authenticate({ headers: { authorization: `Bearer ${token}` } });
        return 200;
      } catch (error) {
        return typeof error?.status === "number" ? error.status : `throw:${error?.name}`;
      }
    };

    const startedAt = new Date();
    const phases = [];
    const runPhase = async (name, label, tokens, attempt) => {
      const before = memory();
      const jwksBefore = issuer.requests.jwks;
      const t0 = performance.now();
      const statuses = await flood(tokens, attempt);
      const elapsedMs = performance.now() - t0;
      const after = memory();
      const phase = {
        name,
        label,
        requests: tokens.length,
        statuses,
        jwksFetches: issuer.requests.jwks - jwksBefore,
        elapsedMs: Math.round(elapsedMs),
        perSec: Math.round((tokens.length * 1000) / elapsedMs),
        rssBeforeMiB: Number(before.rssMiB.toFixed(1)),
        rssAfterMiB: Number(after.rssMiB.toFixed(1)),
        heapBeforeMiB: Number(before.heapUsedMiB.toFixed(1)),
        heapAfterMiB: Number(after.heapUsedMiB.toFixed(1)),
      };
      phases.push(phase);
      console.log(
        `  ${label.padEnd(44)} ${fmt(phase.requests).padStart(7)} in ${fmt(phase.elapsedMs).padStart(6)} ms, ` +
          `JWKS fetches ${phase.jwksFetches}, statuses ${JSON.stringify(statuses)}, ` +
          `heap ${phase.heapBeforeMiB} → ${phase.heapAfterMiB} MiB`,
      );
      return phase;
    };

    const coreStart = { ...memory(), jwks: issuer.requests.jwks };
    const coreT0 = performance.now();
    await runPhase("garbage", "core: garbage strings", garbage, viaCore);
    await runPhase("unknown-kid", "core: well-formed, random unknown kid", unknownKid, viaCore);
    await runPhase("attacker", "core: signed by an attacker key", attacker, viaCore);
    const coreElapsed = performance.now() - coreT0;
    const coreEnd = { ...memory(), jwks: issuer.requests.jwks };

    // Still serving the legitimate user, and a key rotated in right after the flood (inside
    // the unknown-kid cooldown the flood keeps busy) is still picked up.
    const legitAfter = await viaCore(good);
    await issuer.rotate();
    const rotated = await issuer.sign({ sub: "legit-user" });
    const jwksBeforeRotation = issuer.requests.jwks;
    const rotationAttempts = [];
    for (let i = 0; i < 5; i += 1) {
      const code = await viaCore(rotated);
      rotationAttempts.push(code);
      if (code === 200) break;
    }
    const rotationFetches = issuer.requests.jwks - jwksBeforeRotation;

    // HTTP portion through the Fastify adapter: a fresh app, verifier and key cache, driven by
    // fastify.inject (the full Fastify request lifecycle, without sockets).
    const app = Fastify();
    onCleanup(() => app.close());
    await app.register(meishi, {
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
    });
    app.get("/me", { onRequest: app.authenticate }, async (request) => ({
      sub: request.auth?.sub,
    }));
    await app.ready();
    const warm = await app.inject({ url: "/me", headers: { authorization: `Bearer ${rotated}` } });
    if (warm.statusCode !== 200)
      throw new Error(`fastify: valid token answered ${warm.statusCode}`);
    const httpTokens = [];
    const cursor = new Map();
    for (let i = 0; i < HTTP_TOTAL; i += 1) {
      const pool = i % 5 < 2 ? garbage : i % 5 < 4 ? unknownKid : attacker;
      // Distinct tokens; the core verifier saw them, but this app has its own, fresh one.
      const used = (cursor.get(pool) ?? 0) + 1;
      cursor.set(pool, used);
      httpTokens.push(pool[(used - 1) % pool.length]);
    }
    const viaFastify = async (token) => {
      const res = await app.inject({ url: "/me", headers: { authorization: `Bearer ${token}` } });
      return res.statusCode;
    };
    // Two halves with distinct tokens: if the heap grew in the first for lack of a bound, it
    // would grow again in the second.
    const half = Math.ceil(httpTokens.length / 2);
    await runPhase(
      "fastify-http-1",
      "fastify adapter (inject): mixed, 1st half",
      httpTokens.slice(0, half),
      viaFastify,
    );
    await runPhase(
      "fastify-http-2",
      "fastify adapter (inject): mixed, 2nd half",
      httpTokens.slice(half),
      viaFastify,
    );
    const legitHttp = (
      await app.inject({ url: "/me", headers: { authorization: `Bearer ${rotated}` } })
    ).statusCode;

    const unexpected = [];
    for (const phase of phases) {
      for (const [code, count] of Object.entries(phase.statuses)) {
        if (code !== "401") unexpected.push(`${phase.name}: ${count} × ${code}`);
      }
    }
    if (legitAfter !== 200)
      unexpected.push(`legitimate token after the flood answered ${legitAfter}`);
    if (legitHttp !== 200) unexpected.push(`legitimate token over HTTP answered ${legitHttp}`);

    const m = machine();
    const markdown = [
      `### Hostile-input flood — ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
      "",
      `Command: \`${commandLine()}\` — ${fmt(TOTAL)} distinct bad tokens through ` +
        `\`verifier.authenticate()\` (${CONCURRENCY} in flight), then ${fmt(HTTP_TOTAL)} through ` +
        `@meishi/fastify with \`inject\`. Default options (unknown-kid cooldown 30 s, miss cache ` +
        `1,000, verified-token cache 1,000). Memory after a forced GC. Node ${m.node}, ${m.cores} × ${m.cpu}.`,
      "",
      table(
        [
          "phase",
          "requests",
          "statuses",
          "JWKS fetches",
          "time ms",
          "per s",
          "heap MiB before → after",
          "RSS MiB before → after",
        ],
        phases.map((p) => [
          p.label,
          fmt(p.requests),
          Object.entries(p.statuses)
            .map(([code, count]) => `${code}: ${fmt(count)}`)
            .join(", "),
          String(p.jwksFetches),
          fmt(p.elapsedMs),
          fmt(p.perSec),
          `${p.heapBeforeMiB} → ${p.heapAfterMiB}`,
          `${p.rssBeforeMiB} → ${p.rssAfterMiB}`,
        ]),
        ["l", "r", "l", "r", "r", "r", "r", "r"],
      ),
      "",
      `Core flood in total: ${fmt(garbage.length + unknownKid.length + attacker.length)} tokens in ` +
        `${fmt(coreElapsed)} ms, JWKS fetches ${coreEnd.jwks - coreStart.jwks}, heap ` +
        `${coreStart.heapUsedMiB.toFixed(1)} → ${coreEnd.heapUsedMiB.toFixed(1)} MiB, RSS ` +
        `${coreStart.rssMiB.toFixed(1)} → ${coreEnd.rssMiB.toFixed(1)} MiB.`,
      `Legitimate token right after the flood: ${legitAfter}. Key rotated right after the flood: ` +
        `statuses of successive requests with the new key ${rotationAttempts.join(" → ")}, ` +
        `${rotationFetches} JWKS fetch(es). Legitimate token over HTTP after the HTTP flood: ${legitHttp}.`,
      `Core key-source events: ${
        Object.entries(events)
          .map(([type, count]) => `${type} × ${fmt(count)}`)
          .join(", ") || "none"
      }.` +
        (fetchFailures.length === 0
          ? ""
          : ` JWKS fetch failures: ${fetchFailures
              .map((f) => `${f.reason} after ${f.durationMs} ms (${f.message})`)
              .join("; ")}.`),
      "",
      unexpected.length === 0
        ? "Every bad token was answered 401; no 5xx, no unexpected throw."
        : `**Unexpected answers:** ${unexpected.join("; ")}`,
    ].join("\n");
    console.log(`\n${markdown}`);
    const { jsonPath, mdPath } = writeResults(
      `flood-${today()}${quick ? "-quick" : ""}`,
      {
        kind: "flood",
        date: startedAt.toISOString(),
        command: commandLine(),
        settings: { total: TOTAL, http: HTTP_TOTAL, concurrency: CONCURRENCY },
        machine: m,
        phases,
        core: {
          elapsedMs: Math.round(coreElapsed),
          jwksFetches: coreEnd.jwks - coreStart.jwks,
          heapBeforeMiB: Number(coreStart.heapUsedMiB.toFixed(1)),
          heapAfterMiB: Number(coreEnd.heapUsedMiB.toFixed(1)),
          rssBeforeMiB: Number(coreStart.rssMiB.toFixed(1)),
          rssAfterMiB: Number(coreEnd.rssMiB.toFixed(1)),
        },
        legitimateAfterFlood: legitAfter,
        rotationAfterFlood: { statuses: rotationAttempts, jwksFetches: rotationFetches },
        legitimateAfterHttpFlood: legitHttp,
        coreEvents: events,
        coreFetchFailures: fetchFailures,
        unexpected,
      },
      markdown,
    );
    console.log(`\nwrote ${jsonPath}\nwrote ${mdPath}`);
    if (unexpected.length > 0) process.exitCode = 1;
  };

  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
