// Memory of a local copy holding many revoked jtis, in a fresh process for revocation.mjs:
// RSS and heap after a forced GC before the list loads and after. Run with --expose-gc.
import { createRedisRevocationList } from "@meishi/redis";

function snapshot() {
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMiB: rss / 2 ** 20, heapMiB: heapUsed / 2 ** 20 };
}

const before = snapshot();
const started = performance.now();
const list = createRedisRevocationList({
  redis: process.env.REDIS_URL,
  namespace: process.env.REDIS_NS,
  readyTimeoutMs: 120_000,
});
await list.ready();
const loadMs = performance.now() - started;
const after = snapshot();
const entries = list.status().size.tokens;

// Lookups against the full copy: half hits, half misses, all answered from memory.
const issuer = process.env.ISSUER;
const query = (jti) => ({
  issuer,
  jti,
  sub: "someone",
  sid: undefined,
  issuedAt: 1,
  expiresAt: 2,
});
const queries = Array.from({ length: 10_000 }, (_, i) =>
  query(i % 2 === 0 ? `jti-${i * 97}` : `absent-${i}`),
);
let hits = 0;
const lookupStart = performance.now();
const LOOKUPS = 300_000;
for (let i = 0; i < LOOKUPS; i += 1) if (list.isRevoked(queries[i % queries.length])) hits += 1;
const lookupsPerSec = LOOKUPS / ((performance.now() - lookupStart) / 1000);
await list.close();
process.send({ before, after, loadMs, entries, lookupsPerSec, hitShare: hits / LOOKUPS });
