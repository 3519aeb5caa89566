// In-process micro benchmark of token verification, no HTTP: meishi's core verifier against
// jose (createRemoteJWKSet + jwtVerify) and aws-jwt-verify (JwtVerifier).
//
//   node verify.mjs [--quick]
//   env: BENCH_VERIFY_ROUNDS (default 5), BENCH_VERIFY_MS (per round, default 1000)
//
// Every variant verifies RS256 tokens from one local test issuer with issuer and audience
// checked. A discarded warm-up round comes first; the report gives the median of the rounds.
import { createVerifier } from "@meishi/core";
import { createTestIssuer, generateTestKey, signToken } from "@meishi/testing";
import { JwtVerifier } from "aws-jwt-verify";
import { createRemoteJWKSet, jwtVerify } from "jose";
import {
  cleanup,
  commandLine,
  fmt,
  machine,
  median,
  onCleanup,
  ratio,
  table,
  today,
  writeResults,
} from "./lib.mjs";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 1 : Number(process.env.BENCH_VERIFY_ROUNDS ?? 5);
const ROUND_MS = quick ? 300 : Number(process.env.BENCH_VERIFY_MS ?? 1000);
const POOL = 1000;
const BIG_POOL = 5000;

/**
 * Verify tokens one after another (each awaited) for `ms` milliseconds; returns ops/s.
 * @param {(token: string) => Promise<unknown>} verify
 * @param {string[]} tokens
 * @param {number} ms
 */
async function run(verify, tokens, ms) {
  let ops = 0;
  let i = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let k = 0; k < 64; k += 1) {
      await verify(tokens[i]);
      i = i + 1 === tokens.length ? 0 : i + 1;
    }
    ops += 64;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

/**
 * The token must verify and the forged one must not; otherwise the row is aborted.
 * @param {string} name
 * @param {(token: string) => Promise<unknown>} verify
 * @param {string} good
 * @param {string} forged
 */
async function check(name, verify, good, forged) {
  try {
    await verify(good);
  } catch (error) {
    throw new Error(`${name}: valid token refused: ${error.message}`);
  }
  let refused = false;
  try {
    await verify(forged);
  } catch {
    refused = true;
  }
  if (!refused) throw new Error(`${name}: forged token accepted`);
}

async function main() {
  const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
  onCleanup(() => issuer.close());
  const { jwksUri, audience } = issuer;
  const iss = issuer.issuer;

  console.log(`verify: minting ${BIG_POOL} tokens…`);
  const pool = [];
  for (let i = 0; i < BIG_POOL; i += 1) pool.push(await issuer.sign({ sub: `user-${i}` }));
  const same = [pool[0]];
  const pool1k = pool.slice(0, POOL);
  const attacker = await generateTestKey("RS256");
  const [header, payload] = pool[0]
    .split(".")
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")));
  const forged = await signToken(attacker, payload, header);

  const meishiCached = createVerifier({ jwksUri, issuer: iss, audience });
  const meishiUncached = createVerifier({
    jwksUri,
    issuer: iss,
    audience,
    verifiedTokenCache: false,
  });
  // jose's documented pairing; algorithms pinned as its docs advise for a known issuer.
  const joseJwks = createRemoteJWKSet(new URL(jwksUri));
  const joseVerify = (token) =>
    jwtVerify(token, joseJwks, { issuer: iss, audience, algorithms: ["RS256"] });
  // aws-jwt-verify only fetches JWKS over https ("Protocol http: not supported"), so its keys
  // are preloaded with its documented cacheJwks(); verification itself is unchanged.
  const aws = JwtVerifier.create({ issuer: iss, audience, jwksUri });
  const jwks = await (await fetch(jwksUri)).json();
  aws.cacheJwks(jwks);

  const variants = [
    {
      name: "meishi-cache-same",
      label: "meishi verify, cache on (default), same token",
      verify: (t) => meishiCached.verify(t),
      tokens: same,
    },
    {
      name: "meishi-cache-pool",
      label: `meishi verify, cache on, ${fmt(POOL)} distinct tokens`,
      verify: (t) => meishiCached.verify(t),
      tokens: pool1k,
    },
    {
      name: "meishi-cache-miss",
      label: `meishi verify, cache on (default 10,000 entries), ${fmt(BIG_POOL)} distinct tokens in turn`,
      verify: (t) => meishiCached.verify(t),
      tokens: pool,
    },
    {
      name: "meishi-nocache",
      label: `meishi verify, verifiedTokenCache: false, ${fmt(POOL)} tokens`,
      verify: (t) => meishiUncached.verify(t),
      tokens: pool1k,
    },
    {
      name: "jose",
      label: `jose 6 jwtVerify + createRemoteJWKSet, ${fmt(POOL)} tokens`,
      verify: joseVerify,
      tokens: pool1k,
    },
    {
      name: "aws-jwt-verify",
      label: `aws-jwt-verify 5 JwtVerifier.verify (cacheJwks), ${fmt(POOL)} tokens`,
      verify: (t) => aws.verify(t),
      tokens: pool1k,
    },
  ];

  /** @type {Map<string, string>} */
  const failed = new Map();
  for (const v of variants) {
    await check(v.name, v.verify, pool[0], forged).catch((error) => {
      failed.set(v.name, error.message);
      console.error(`  ! ${error.message} — row aborted`);
    });
  }
  const active = variants.filter((v) => !failed.has(v.name));

  const startedAt = new Date();
  /** @type {Map<string, number[]>} */
  const samples = new Map(variants.map((v) => [v.name, []]));
  console.log(
    `verify: ${active.length} variants × (1 warm-up + ${ROUNDS}) rounds × ${ROUND_MS} ms`,
  );
  for (let round = 0; round <= ROUNDS; round += 1) {
    const order = active.map((_, i) => active[(i + round) % active.length]);
    for (const v of order) {
      const opsPerSec = await run(v.verify, v.tokens, ROUND_MS);
      if (round > 0) samples.get(v.name).push(opsPerSec);
      console.log(
        `  ${round === 0 ? "warm-up" : `round ${round}/${ROUNDS}`} ${v.name.padEnd(20)} ${fmt(opsPerSec).padStart(10)} ops/s`,
      );
    }
  }

  const rows = variants.map((v) => ({
    name: v.name,
    label: v.label,
    opsPerSec: Math.round(median(samples.get(v.name))),
    perRound: samples.get(v.name).map(Math.round),
    failed: failed.get(v.name) ?? null,
  }));
  const by = Object.fromEntries(rows.map((r) => [r.name, r.opsPerSec]));
  const m = machine();
  const markdown = [
    `### Verification micro benchmark — ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Command: \`${commandLine()}\` — ${ROUNDS} rounds of ${ROUND_MS} ms per variant after a warm-up round, ` +
      `sequential awaited calls, RS256 (2048-bit) tokens, issuer and audience checked. ` +
      `Node ${m.node}, ${m.cores} × ${m.cpu}. Medians over rounds.`,
    "",
    table(
      ["variant", "ops/s (median)", "vs jose", "vs aws-jwt-verify"],
      rows.map((r) =>
        r.failed
          ? [r.label, "—", "—", `aborted: ${r.failed}`]
          : [
              r.label,
              fmt(r.opsPerSec),
              ratio(r.opsPerSec, by.jose),
              ratio(r.opsPerSec, by["aws-jwt-verify"]),
            ],
      ),
      ["l", "r", "r", "r"],
    ),
    "",
    "Ratios are this row's ops/s divided by jose's / aws-jwt-verify's (above 1.00× = faster). " +
      "The fair like-for-like comparison is `verifiedTokenCache: false` (every call checks the " +
      "signature, as jose and aws-jwt-verify always do); the cache rows show what the default " +
      "cache buys when the same tokens come back.",
  ].join("\n");
  console.log(`\n${markdown}`);
  const { jsonPath, mdPath } = writeResults(
    `verify-${today()}${quick ? "-quick" : ""}`,
    {
      kind: "verify",
      date: startedAt.toISOString(),
      command: commandLine(),
      settings: { rounds: ROUNDS, roundMs: ROUND_MS, pool: POOL, bigPool: BIG_POOL },
      machine: m,
      rows,
    },
    markdown,
  );
  console.log(`\nwrote ${jsonPath}\nwrote ${mdPath}`);
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
