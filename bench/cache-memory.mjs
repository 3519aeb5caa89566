// What meishi's caches really hold, in heap bytes, and how the default verified-token cache
// does on realistic traffic.
//
//   node --expose-gc cache-memory.mjs      (pnpm --filter @meishi/bench bench:cache)
//
// 1. Verified-token cache, typical tokens: heap per entry (forced GC before and after).
// 2. The same with large tokens (~14 KB, hundreds of small claims): its byte bound counts what
//    entries hold, so 10,000 of them stay within the default 64 MiB instead of ~1 GB.
// 3. Unknown-kid LRU: 5,000 distinct 256-character kids (the longest accepted) against the
//    default 1,000-entry miss cache.
// 4. Realistic traffic: 10,000 users reusing their tokens (Zipf, s = 1), 1 % invalid, 0.1 % of
//    users with a new token each second: the default cache's hit ratio.
import { createVerifier, VERIFIED_TOKEN_CACHE_DEFAULTS } from "@meishi/core";
import { createTestIssuer, signToken } from "@meishi/testing";
import { commandLine, fmt, machine, table, today, writeResults } from "./lib.mjs";

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const MiB = 2 ** 20;

const issuer = await createTestIssuer({ algorithms: ["ES256"], tokenLifetimeSec: 3600 });
const base = { jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience, logger: false };
const rows = [];

async function fill(label, tokens, verifier) {
  const before = heap();
  for (const token of tokens) await verifier.verify(token);
  const after = heap();
  const perEntry = (after - before) / tokens.length;
  rows.push([label, fmt(tokens.length), fmt((after - before) / MiB, 1), fmt(perEntry)]);
  console.log(`${label}: +${fmt((after - before) / MiB, 1)} MiB, ${fmt(perEntry)} B per token`);
  return { before, after };
}

// 1. typical
const typical = [];
for (let i = 0; i < 10_000; i++) {
  typical.push(await issuer.sign({ sub: `user-${i}`, role: "standard user", scope: "orders:read orders:write" }));
}
const v1 = createVerifier(base);
await v1.verify(typical[0]);
await fill(`typical tokens (${fmt(typical[1].length)} chars)`, typical.slice(1), v1);

// 2. large
const manyClaims = Object.fromEntries(Array.from({ length: 350 }, (_, i) => [`claim_${i}`, [i, { v: `x${i}` }]]));
const key = issuer.keys[0];
const large = [];
for (let i = 0; i < 10_000; i++) {
  large.push(await signToken(key, { ...manyClaims, iss: issuer.issuer, aud: issuer.audience, sub: `big-${i}`, exp: Math.floor(Date.now() / 1000) + 3600 }));
}
// A few hundred fit under any bound: what one large entry really holds.
const probe = createVerifier(base);
await probe.verify(typical[0]);
const probeRun = await fill("large tokens, 300 (all cached)", large.slice(0, 300), probe);
const largePerEntry = (probeRun.after - probeRun.before) / 300;
const v2 = createVerifier(base);
await v2.verify(typical[0]);
const largeRun = await fill(`large tokens (${fmt(large[0].length)} chars), default bound`, large, v2);
const largeHeldMiB = (largeRun.after - largeRun.before) / MiB;

// 3. unknown-kid LRU
const v3 = createVerifier({ ...base, keySource: { cooldownMs: 3_600_000 } });
await v3.verify(typical[0]);
const kidTokens = [];
for (let i = 0; i < 5_000; i++) {
  const kid = `${i}-`.padEnd(256, "k");
  const [, payload, signature] = typical[0].split(".");
  kidTokens.push(`${Buffer.from(JSON.stringify({ alg: "ES256", kid })).toString("base64url")}.${payload}.${signature}`);
}
const kidBefore = heap();
for (const token of kidTokens) await v3.verify(token).catch(() => undefined);
const kidAfter = heap();
rows.push(["unknown-kid LRU, 5,000 distinct 256-char kids (1,000 kept)", "5,000", fmt((kidAfter - kidBefore) / MiB, 2), "—"]);
console.log(`kid LRU: +${fmt((kidAfter - kidBefore) / MiB, 2)} MiB`);

// 4. realistic traffic, in process (the hit ratio depends on the sequence, not on HTTP)
const USERS = 10_000;
const zipf = (() => {
  const weights = Array.from({ length: USERS }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  const cumulative = weights.map((w) => (acc += w / total));
  return () => {
    const r = Math.random();
    let lo = 0;
    let hi = USERS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
})();
const userTokens = typical.slice(0, USERS);
const fresh = [];
for (let i = 0; i < 2_000; i++) fresh.push(await issuer.sign({ sub: `fresh-${i}` }));
const invalid = typical[0].slice(0, -4) + "AAAA";
let hits = 0;
let misses = 0;
const v4 = createVerifier({
  ...base,
  onEvent: (event) => {
    if (event.type === "token_verified") event.cached ? hits++ : misses++;
  },
});
const REQUESTS = 200_000;
const PER_SECOND = 20_000; // the simulated request rate: 0.1 % of users (10) renew per second
let renewed = 0;
let refused = 0;
for (let i = 0; i < REQUESTS; i++) {
  if (i > 0 && i % (PER_SECOND / 10) === 0 && renewed < fresh.length) {
    userTokens[zipf()] = fresh[renewed++];
  }
  const token = Math.random() < 0.01 ? invalid : userTokens[zipf()];
  await v4.verify(token).catch(() => refused++);
}
const hitRatio = hits / (hits + misses);
console.log(`realistic: hit ratio ${(hitRatio * 100).toFixed(1)} %, ${refused} refused`);

const markdown = [
  `# Cache memory, ${today()}`,
  "",
  `\`${commandLine()}\` (Node ${process.version}; heap after forced GC).`,
  "",
  table(["what", "tokens", "heap held (MiB)", "bytes per token"], rows, ["l", "r", "r", "r"]),
  "",
  `The verified-token cache defaults to ${fmt(VERIFIED_TOKEN_CACHE_DEFAULTS.max)} entries and ${fmt(VERIFIED_TOKEN_CACHE_DEFAULTS.maxBytes / MiB)} MiB counted by what entries hold: one large token really holds about ${fmt(largePerEntry / 1024)} KiB (${fmt(large[0].length / 1024)} KiB of text), so 10,000 of them would take ${fmt((largePerEntry * 10_000) / MiB)} MiB if each were kept; the bound keeps ${fmt(largeHeldMiB, 1)} MiB (it counts a large entry conservatively, so it evicts before the real figure reaches the bound).`,
  "",
  `Realistic traffic (10,000 users, Zipf s = 1, 1 % invalid tokens, 0.1 % of users renewing per simulated second, ${fmt(REQUESTS)} requests): hit ratio of the default cache **${(hitRatio * 100).toFixed(1)} %** (${fmt(hits)} hits, ${fmt(misses)} full verifications, ${fmt(refused)} refused).`,
].join("\n");
console.log(`\n${markdown}`);
writeResults(`cache-memory-${today()}`, { date: today(), machine: machine(), rows, hitRatio, hits, misses, refused, largeHeldMiB }, markdown);
await issuer.close();
