import { randomUUID } from "node:crypto";
import { ConfigurationError, createVerifier, type RevocationQuery } from "@meishi/core";
import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import { Cluster, Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createRedisRevocationList,
  type RedisRevocationEvent,
  type RedisRevocationList,
  type RedisRevocationListOptions,
  RevocationsUnavailableError,
} from "../src/index.js";
import { type ApiProcess, eventually, startApiProcess } from "./helpers/api-process.js";
import {
  startCuttableLink,
  startRedisCluster,
  startRedisServer,
  type TestRedisServer,
} from "./helpers/redis-server.js";

let redis: TestRedisServer;
let issuer: TestIssuer;
let admin: Redis;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  [redis, issuer] = await Promise.all([
    startRedisServer(),
    createTestIssuer({ algorithms: ["RS256", "ES256"] }),
  ]);
  admin = new Redis(redis.url);
});

afterEach(async () => {
  vi.useRealTimers();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

afterAll(async () => {
  admin.disconnect();
  await Promise.all([redis.stop(), issuer.close()]);
});

function namespace(): string {
  return `test:${randomUUID()}`;
}

async function openList(
  options: Partial<RedisRevocationListOptions> & { namespace: string },
): Promise<RedisRevocationList> {
  const list = createRedisRevocationList({ redis: redis.url, ...options });
  cleanups.push(() => list.close());
  await list.ready();
  return list;
}

async function openApi(ns: string, env: Record<string, string> = {}): Promise<ApiProcess> {
  const api = await startApiProcess({
    REDIS_URL: redis.url,
    REDIS_NAMESPACE: ns,
    JWKS_URI: issuer.jwksUri,
    ISSUER: issuer.issuer,
    AUDIENCE: String(issuer.audience),
    ...env,
  });
  cleanups.push(() => api.stop());
  return api;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
}

function queryFor(token: string): RevocationQuery {
  const claims = claimsOf(token) as {
    iss?: string;
    jti?: string;
    sub?: string;
    sid?: string;
    iat?: number;
    exp: number;
  };
  return {
    issuer: claims.iss,
    jti: claims.jti,
    sub: claims.sub,
    sid: claims.sid,
    issuedAt: claims.iat,
    expiresAt: claims.exp,
  };
}

async function refusedBy(api: ApiProcess, token: string): Promise<boolean> {
  return eventually(async () => (await api.get(token)).status === 401, 10_000);
}

describe("createRedisRevocationList across processes", () => {
  it("a token revoked in one process is refused by an API in another OS process", async () => {
    const ns = namespace();
    const list = await openList({ namespace: ns });
    const api = await openApi(ns);
    const token = await issuer.sign({ jti: randomUUID() });
    const other = await issuer.sign({ jti: randomUUID() });
    expect((await api.get(token)).status).toBe(200);

    await list.revokeToken(queryOf(token));

    expect(list.isRevoked(queryFor(token))).toBe(true);
    expect(await refusedBy(api, token)).toBe(true);
    const refused = await api.get(token);
    expect(refused.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect((await api.get(other)).status).toBe(200);
  });

  it("refuses every token of a subject issued before the cut-off, and not later ones", async () => {
    const ns = namespace();
    const list = await openList({ namespace: ns });
    const api = await openApi(ns);
    const before = await issuer.sign({ sub: "alice", jti: randomUUID() }, { issuedAtSec: -30 });
    const bob = await issuer.sign({ sub: "bob", jti: randomUUID() }, { issuedAtSec: -30 });
    expect((await api.get(before)).status).toBe(200);

    await list.revokeSubject({ issuer: issuer.issuer, sub: "alice" });

    expect(await refusedBy(api, before)).toBe(true);
    expect((await api.get(bob)).status).toBe(200);
    const after = await issuer.sign({ sub: "alice", jti: randomUUID() }, { issuedAtSec: 2 });
    expect((await api.get(after)).status).toBe(200);
  });

  it("refuses every token of an issuer issued before the cut-off", async () => {
    const ns = namespace();
    const list = await openList({ namespace: ns });
    const api = await openApi(ns);
    const old = await issuer.sign({ sub: "carol", jti: randomUUID() }, { issuedAtSec: -60 });
    const noIat = await issuer.sign({ sub: "dan" }, { issuedAtSec: -60 });
    expect((await api.get(old)).status).toBe(200);

    await list.revokeIssuer({ issuer: issuer.issuer, issuedBefore: Date.now() / 1000 - 30 });

    expect(await refusedBy(api, old)).toBe(true);
    expect(await refusedBy(api, noIat)).toBe(true);
    const fresh = await issuer.sign({ sub: "carol", jti: randomUUID() });
    expect((await api.get(fresh)).status).toBe(200);
  });

  it("refuses a revoked token under every other encoding of it", async () => {
    const ns = namespace();
    const list = await openList({ namespace: ns });
    const api = await openApi(ns);
    const jti = randomUUID();
    const rs = await issuer.sign({ jti }, { alg: "RS256" });
    const es = await issuer.sign({ jti }, { alg: "ES256" });
    const variants = [rs, withSlackBits(rs), es, withSlackBits(es), highSTwin(es)];
    expect(new Set(variants).size).toBe(variants.length);
    for (const variant of variants) expect((await api.get(variant)).status).toBe(200);

    await list.revokeToken({ issuer: issuer.issuer, jti, expiresAt: queryFor(rs).expiresAt });

    for (const variant of variants) expect(await refusedBy(api, variant)).toBe(true);
  });

  it("takes 10,000 concurrent revocations, all seen by another store", async () => {
    const ns = namespace();
    const [writer, reader] = await Promise.all([
      openList({ namespace: ns }),
      openList({ namespace: ns }),
    ]);
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const jtis = Array.from({ length: 10_000 }, (_, i) => `bulk-${i}`);
    await Promise.all(
      jtis.map((jti) => writer.revokeToken({ issuer: issuer.issuer, jti, expiresAt })),
    );

    expect(await eventually(() => reader.status().size.tokens === 10_000)).toBe(true);
    expect(await admin.zcard(`{${ns}}:tokens`)).toBe(10_000);
    expect(await admin.get(`{${ns}}:seq`)).toBe("10000");
    for (const jti of [jtis[0], jtis[4_999], jtis[9_999]]) {
      expect(reader.isRevoked({ ...queryOf(jti ?? ""), jti })).toBe(true);
    }
    expect(reader.status().seq).toBe(10_000);
  });
});

describe("a process starting while others write", () => {
  it("misses nothing written during its first load", async () => {
    const ns = namespace();
    const writer = await openList({ namespace: ns });
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const jtis = Array.from({ length: 3_000 }, (_, i) => `during-${i}`);
    // Half before the newcomer starts, half racing its subscribe-then-scan.
    await Promise.all(
      jtis.slice(0, 1_500).map((jti) => writer.revokeToken({ issuer: "iss", jti, expiresAt })),
    );
    const racing = Promise.all(
      jtis.slice(1_500).map((jti) => writer.revokeToken({ issuer: "iss", jti, expiresAt })),
    );
    const newcomer = await openList({ namespace: ns });
    await racing;
    expect(await eventually(() => newcomer.status().size.tokens === 3_000)).toBe(true);
    expect(await eventually(() => newcomer.status().seq === 3_000)).toBe(true);
    for (const jti of jtis) {
      expect(newcomer.isRevoked({ ...queryOf(jti), issuer: "iss" })).toBe(true);
    }
  });
});

describe("entries in Redis and in each process", () => {
  it("keeps the documented key layout under the default namespace", async () => {
    const list = createRedisRevocationList({ redis: redis.url });
    cleanups.push(() => list.close());
    await list.ready();
    const expiresAt = Math.floor(Date.now() / 1000) + 60;
    await list.revokeToken({ issuer: "iss", jti: "layout-1", expiresAt });
    await list.revokeSession({ issuer: "iss", sid: "s1", expiresAt });
    await list.revokeSubject({ issuer: "iss", sub: "u1" });
    await list.revokeIssuer({ issuer: "iss2" });
    expect(await admin.zscore("{meishi:revocation}:tokens", "3:isslayout-1")).toBe(
      String(expiresAt),
    );
    expect(await admin.zscore("{meishi:revocation}:sessions", "3:isss1")).toBe(String(expiresAt));
    expect(await admin.zscore("{meishi:revocation}:subjects", "3:issu1")).not.toBeNull();
    expect(await admin.zscore("{meishi:revocation}:issuers", "iss2")).not.toBeNull();
    expect(Number(await admin.get("{meishi:revocation}:seq"))).toBeGreaterThanOrEqual(4);
    await admin.del(
      "{meishi:revocation}:tokens",
      "{meishi:revocation}:sessions",
      "{meishi:revocation}:subjects",
      "{meishi:revocation}:issuers",
      "{meishi:revocation}:seq",
    );
  });

  it("lets entries expire with their tokens, in Redis and locally", async () => {
    const ns = namespace();
    const list = await openList({ namespace: ns, clockToleranceSec: 0 });
    const nowSec = Math.floor(Date.now() / 1000);
    await list.revokeToken({ issuer: "iss", jti: "short", expiresAt: nowSec + 1 });
    await list.revokeToken({ issuer: "iss", jti: "long", expiresAt: nowSec + 3600 });
    const short = { ...queryOf("short"), issuer: "iss" };
    expect(list.isRevoked(short)).toBe(true);
    const ttl = await admin.ttl(`{${ns}}:tokens`);
    expect(ttl).toBeGreaterThan(3000);
    expect(ttl).toBeLessThanOrEqual(3601);

    expect(await eventually(() => !list.isRevoked(short), 5_000)).toBe(true);
    expect(list.isRevoked({ ...queryOf("long"), issuer: "iss" })).toBe(true);
    // The next write drops what has expired from Redis too.
    await list.revokeToken({ issuer: "iss", jti: "later", expiresAt: nowSec + 3600 });
    expect((await admin.zrange(`{${ns}}:tokens`, "0", "-1")).sort()).toEqual([
      "3:isslater",
      "3:isslong",
    ]);
    expect(await eventually(() => list.status().size.tokens === 2, 3_000)).toBe(true);
  });

  it("loads what is already in Redis when it starts", async () => {
    const ns = namespace();
    const first = await openList({ namespace: ns });
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    await first.revokeToken({ issuer: "iss", jti: "before-start", expiresAt });
    await first.revokeSession({ issuer: "iss", sid: "sess", expiresAt });
    const events: RedisRevocationEvent[] = [];
    const second = await openList({ namespace: ns, onEvent: (e) => events.push(e) });
    expect(second.isRevoked({ ...queryOf("before-start"), issuer: "iss" })).toBe(true);
    expect(second.isRevoked({ ...queryOf("x"), issuer: "iss", sid: "sess" })).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "revocations_resynced", reason: "start", entries: 2 }),
    );
    expect(events).toContainEqual({ type: "redis_connected", connection: "subscriber" });
  });

  it("catches up on a change whose message never arrived, found by the heartbeat", async () => {
    const ns = namespace();
    const events: RedisRevocationEvent[] = [];
    const list = await openList({
      namespace: ns,
      heartbeatIntervalMs: 50,
      onEvent: (e) => events.push(e),
    });
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    // Written into Redis with its sequence number but never published: a lost message.
    await admin.zadd(`{${ns}}:tokens`, expiresAt, "3:isslost-message");
    await admin.incr(`{${ns}}:seq`);
    const lost = { ...queryOf("lost-message"), issuer: "iss" };
    expect(await eventually(() => list.isRevoked(lost), 5_000)).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "revocations_resynced", reason: "missed_change" }),
    );
  });

  it("reloads when a message arrives out of sequence", async () => {
    const ns = namespace();
    const events: RedisRevocationEvent[] = [];
    const list = await openList({ namespace: ns, onEvent: (e) => events.push(e) });
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    await admin.zadd(`{${ns}}:tokens`, expiresAt, "3:issskipped");
    await admin.set(`{${ns}}:seq`, "2");
    await admin.publish(`{${ns}}:events`, `2|t|${expiresAt}|3:issarrived`);
    const skipped = { ...queryOf("skipped"), issuer: "iss" };
    expect(await eventually(() => list.isRevoked(skipped), 5_000)).toBe(true);
    expect(list.isRevoked({ ...queryOf("arrived"), issuer: "iss" })).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "revocations_resynced", reason: "missed_change" }),
    );
  });

  it("fails closed when the local copy is full rather than forget a live revocation", async () => {
    const ns = namespace();
    const events: RedisRevocationEvent[] = [];
    const small = await openList({
      namespace: ns,
      maxLocalEntries: 3,
      onEvent: (e) => events.push(e),
    });
    const writer = await openList({ namespace: ns });
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    for (const jti of ["f1", "f2", "f3", "f4"]) {
      await writer.revokeToken({ issuer: "iss", jti, expiresAt });
    }
    const q = { ...queryOf("f1"), issuer: "iss" };
    expect(await eventually(() => throws(() => small.isRevoked(q)), 5_000)).toBe(true);
    expect(() => small.isRevoked(q)).toThrow(
      expect.objectContaining({ code: "ERR_MEISHI_REVOCATIONS_LIST_FULL" }),
    );
    expect(small.status().serving).toBe(false);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "revocations_local_list_full", max: 3 }),
    );
    expect(writer.isRevoked({ ...queryOf("f4"), issuer: "iss" })).toBe(true);
  });

  it("rejects a write while Redis cannot take it, and says so", async () => {
    const ns = namespace();
    const list = await openList({ namespace: ns });
    const link = await startCuttableLink(redis.port);
    cleanups.push(() => link.close());
    const cut = createRedisRevocationList({ redis: link.url, namespace: ns });
    cleanups.push(() => cut.close());
    await cut.ready();
    link.cut();
    await expect(
      cut.revokeToken({ issuer: "iss", jti: "lost", expiresAt: Date.now() / 1000 + 60 }),
    ).rejects.toThrow();
    expect(list.isRevoked({ ...queryOf("lost"), issuer: "iss" })).toBe(false);
  });
});

describe("with a replica", () => {
  it("follows changes through a subscriber on a replica", async () => {
    const replica = await startRedisServer(["--replicaof", "127.0.0.1", String(redis.port)]);
    cleanups.push(() => replica.stop());
    const probe = new Redis(replica.url);
    cleanups.push(() => probe.disconnect());
    expect(
      await eventually(async () => /master_link_status:up/.test(await probe.info("replication"))),
    ).toBe(true);
    const ns = namespace();
    const events: RedisRevocationEvent[] = [];
    const follower = await openList({
      namespace: ns,
      subscriberRedis: replica.url,
      heartbeatIntervalMs: 100,
      onEvent: (e) => events.push(e),
    });
    // The follower listens on the replica, not on the primary the writer uses.
    expect(await probe.pubsub("NUMSUB", `{${ns}}:events`)).toEqual([`{${ns}}:events`, 1]);
    expect(await admin.pubsub("NUMSUB", `{${ns}}:events`)).toEqual([`{${ns}}:events`, 0]);
    const writer = await openList({ namespace: ns });
    const token = await issuer.sign({ jti: randomUUID() });
    await writer.revokeToken(queryOf(token));
    expect(await eventually(() => follower.isRevoked(queryFor(token)))).toBe(true);
    // Heartbeats published on the primary come back through the replica: the copy stays fresh.
    const before = follower.status().freshAsOf ?? 0;
    expect(await eventually(() => (follower.status().freshAsOf ?? 0) > before + 200)).toBe(true);
    expect(events.filter((e) => e.type === "revocations_resynced")).toHaveLength(1);
  });
});

describe("with a Redis Cluster", () => {
  it("keeps one slot for the deny-list and propagates across nodes", async () => {
    const cluster = await startRedisCluster(3);
    cleanups.push(() => cluster.stop());
    const nodes = cluster.ports.map((port) => ({ host: "127.0.0.1", port }));
    const connect = () => new Cluster(nodes, { enableOfflineQueue: false });
    const probe = new Redis(cluster.ports[0] ?? 0, "127.0.0.1");
    cleanups.push(() => probe.disconnect());
    expect(
      await eventually(async () => /cluster_state:ok/.test(String(await probe.cluster("INFO")))),
    ).toBe(true);
    const ns = namespace();
    const slots = await Promise.all(
      ["tokens", "sessions", "subjects", "issuers", "seq", "events"].map((name) =>
        probe.cluster("KEYSLOT", `{${ns}}:${name}`),
      ),
    );
    expect(new Set(slots).size).toBe(1);

    const [writer, reader] = await Promise.all([
      openList({ namespace: ns, redis: connect, heartbeatIntervalMs: 100 }),
      openList({ namespace: ns, redis: connect, heartbeatIntervalMs: 100 }),
    ]);
    const token = await issuer.sign({ jti: randomUUID(), sub: "cluster-user" });
    await writer.revokeToken(queryOf(token));
    await writer.revokeSubject({ issuer: issuer.issuer, sub: "someone-else" });
    expect(await eventually(() => reader.isRevoked(queryFor(token)))).toBe(true);
    expect(await eventually(() => reader.status().seq === 2)).toBe(true);
    const before = reader.status().freshAsOf ?? 0;
    expect(await eventually(() => (reader.status().freshAsOf ?? 0) > before + 200)).toBe(true);
    const late = await openList({ namespace: ns, redis: connect });
    expect(late.isRevoked(queryFor(token))).toBe(true);
  });
});

describe("Redis down, and back", () => {
  async function ownRedis(): Promise<TestRedisServer> {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    return own;
  }

  it("serves the local copy, fails closed past the limit, then recovers and catches up", async () => {
    const own = await ownRedis();
    const ns = namespace();
    const link = await startCuttableLink(own.port);
    cleanups.push(() => link.close());
    const events: RedisRevocationEvent[] = [];
    const list = createRedisRevocationList({
      redis: link.url,
      namespace: ns,
      maxStalenessMs: 1_500,
      heartbeatIntervalMs: 100,
      onEvent: (event) => events.push(event),
    });
    cleanups.push(() => list.close());
    const writer = createRedisRevocationList({ redis: own.url, namespace: ns });
    cleanups.push(() => writer.close());
    await Promise.all([list.ready(), writer.ready()]);
    const api = await startApiProcess({
      REDIS_URL: link.url,
      REDIS_NAMESPACE: ns,
      MAX_STALENESS_MS: "1500",
      HEARTBEAT_MS: "100",
      JWKS_URI: issuer.jwksUri,
      ISSUER: issuer.issuer,
      AUDIENCE: String(issuer.audience),
    });
    cleanups.push(() => api.stop());

    const a = await issuer.sign({ jti: randomUUID() });
    const b = await issuer.sign({ jti: randomUUID() });
    const c = await issuer.sign({ jti: randomUUID() });
    await writer.revokeToken(queryOf(a));
    expect(await eventually(() => list.isRevoked(queryFor(a)))).toBe(true);
    expect(await refusedBy(api, a)).toBe(true);

    await own.kill();
    // Within the limit the local copy answers, revoked or not.
    expect(list.isRevoked(queryFor(a))).toBe(true);
    expect(list.isRevoked(queryFor(b))).toBe(false);
    expect(await eventually(() => events.some((e) => e.type === "redis_disconnected"), 5_000)).toBe(
      true,
    );

    // Past it: fail closed, and the other process answers 503 with Retry-After.
    expect(await eventually(() => throws(() => list.isRevoked(queryFor(b))), 10_000)).toBe(true);
    expect(() => list.isRevoked(queryFor(b))).toThrow(RevocationsUnavailableError);
    expect(events).toContainEqual(expect.objectContaining({ type: "revocations_stale" }));
    expect(await eventually(async () => (await api.get(c)).status === 503, 10_000)).toBe(true);
    const unavailable = await api.get(c);
    expect(unavailable.headers.get("retry-after")).toBe("5");
    expect(unavailable.body).not.toMatch(/at .*\.js/);

    // Redis comes back (empty); this process stays cut off while b is revoked elsewhere.
    link.cut();
    await own.start();
    expect(
      await eventually(async () => {
        try {
          await writer.revokeToken(queryOf(b));
          return true;
        } catch {
          return false;
        }
      }, 10_000),
    ).toBe(true);
    expect(() => list.isRevoked(queryFor(b))).toThrow(RevocationsUnavailableError);

    link.restore();
    expect(await eventually(() => !throws(() => list.isRevoked(queryFor(c))), 10_000)).toBe(true);
    expect(list.isRevoked(queryFor(b))).toBe(true);
    // Revoked before the outage and lost by the restarted Redis: still refused here.
    expect(list.isRevoked(queryFor(a))).toBe(true);
    expect(list.isRevoked(queryFor(c))).toBe(false);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "revocations_resynced", reason: "reconnect" }),
    );
    expect(events).toContainEqual({ type: "revocations_fresh" });
    expect(await refusedBy(api, b)).toBe(true);
    expect(await eventually(async () => (await api.get(c)).status === 200, 10_000)).toBe(true);
  });

  it("notices a subscription that went silent, reconnects it and catches up", async () => {
    const link = await startCuttableLink(redis.port);
    cleanups.push(() => link.close());
    const ns = namespace();
    const events: RedisRevocationEvent[] = [];
    const list = await openList({
      namespace: ns,
      subscriberRedis: link.url,
      heartbeatIntervalMs: 100,
      maxStalenessMs: 1_000,
      onEvent: (e) => events.push(e),
    });
    const writer = await openList({ namespace: ns });
    const token = await issuer.sign({ jti: randomUUID() });

    // Replies to the subscriber vanish; its socket stays open and nothing reports an error.
    link.stall();
    await writer.revokeToken(queryOf(token));
    expect(await eventually(() => throws(() => list.isRevoked(queryFor(token))), 10_000)).toBe(
      true,
    );
    link.restore();
    expect(await eventually(() => !throws(() => list.isRevoked(queryFor(token))), 15_000)).toBe(
      true,
    );
    expect(list.isRevoked(queryFor(token))).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "revocations_resynced", reason: "heartbeat_lost" }),
    );
  });

  it("fails closed by default 10 s after it was last confirmed, and opens only by name", async () => {
    const own = await ownRedis();
    const ns = namespace();
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code !== undefined) warnings.push(warning.code);
    };
    process.on("warning", onWarning);
    cleanups.push(() => process.off("warning", onWarning));
    const closed = createRedisRevocationList({ redis: own.url, namespace: ns });
    const open = createRedisRevocationList({
      redis: own.url,
      namespace: ns,
      failOpenWhenStale: true,
    });
    cleanups.push(
      () => closed.close(),
      () => open.close(),
    );
    await Promise.all([closed.ready(), open.ready()]);
    await own.kill();
    // Let anything already on the wire arrive before reading the last confirmation.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const freshAsOf = closed.status().freshAsOf ?? 0;
    const q = { ...queryOf("x"), issuer: "iss" };

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(freshAsOf + 10_000);
    expect(closed.isRevoked(q)).toBe(false);
    vi.setSystemTime(freshAsOf + 10_001);
    expect(() => closed.isRevoked(q)).toThrow(RevocationsUnavailableError);
    expect(closed.status().serving).toBe(false);
    vi.setSystemTime(freshAsOf + 3_600_000);
    expect(open.isRevoked(q)).toBe(false);
    expect(open.status().serving).toBe(true);
    expect(warnings).toContain("MEISHI_REVOCATION_FAIL_OPEN");
  });
});

describe("behind a verifier", () => {
  it("verifier.ready() waits for the first load, and a revoked token gets token_revoked", async () => {
    const ns = namespace();
    const writer = await openList({ namespace: ns });
    const token = await issuer.sign({ jti: randomUUID() });
    await writer.revokeToken(queryOf(token));
    const list = createRedisRevocationList({ redis: redis.url, namespace: ns });
    cleanups.push(() => list.close());
    const verifier = createVerifier({
      jwksUri: issuer.jwksUri,
      issuer: issuer.issuer,
      audience: issuer.audience,
      revocation: list,
    });
    expect(list.status().freshAsOf).toBeUndefined();
    await verifier.ready();
    expect(list.status().freshAsOf).toBeDefined();
    await expect(verifier.verify(token)).rejects.toMatchObject({
      status: 401,
      reason: "token_revoked",
    });
    const other = await issuer.sign({ jti: randomUUID() });
    await expect(verifier.verify(other)).resolves.toMatchObject({ sub: "user-123" });
  });
});

describe("options", () => {
  it("refuses bad options at creation, before connecting", () => {
    const bad: Array<Partial<RedisRevocationListOptions>> = [
      {},
      { redis: redis.url, namespace: "{x}" },
      { redis: redis.url, namespace: "" },
      { redis: redis.url, maxStalenessMs: 0 },
      { redis: redis.url, heartbeatIntervalMs: -1 },
      { redis: redis.url, maxLocalEntries: 1.5 },
      { redis: redis.url, clockToleranceSec: -1 },
      { redis: redis.url, maxTokenLifetimeSec: 0 },
    ];
    for (const options of bad) {
      expect(() => createRedisRevocationList(options as RedisRevocationListOptions)).toThrow(
        ConfigurationError,
      );
    }
  });
});

describe("before the first load", () => {
  it("ready() waits 10 s by default before rejecting", async () => {
    const link = await startCuttableLink(redis.port);
    cleanups.push(() => link.close());
    link.cut();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const list = createRedisRevocationList({ redis: link.url, namespace: namespace() });
    cleanups.push(() => list.close());
    let settled: "resolved" | "rejected" | undefined;
    list.ready().then(
      () => {
        settled = "resolved";
      },
      () => {
        settled = "rejected";
      },
    );
    await vi.advanceTimersByTimeAsync(9_999);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe("rejected");
  });

  it("sends a heartbeat every second by default", async () => {
    const ns = namespace();
    const listener = new Redis(redis.url);
    cleanups.push(() => listener.disconnect());
    const beats: number[] = [];
    listener.on("pmessage", () => beats.push(Date.now()));
    await listener.psubscribe(`{${ns}}:heartbeat:*`);
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const list = createRedisRevocationList({ redis: redis.url, namespace: ns });
    cleanups.push(() => list.close());
    await list.ready();
    await vi.advanceTimersByTimeAsync(999);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(beats).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await eventually(() => beats.length === 1, 5_000)).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await eventually(() => beats.length === 2, 5_000)).toBe(true);
  });

  it("fails closed until loaded, and ready() rejects when Redis never answers", async () => {
    const link = await startCuttableLink(redis.port);
    cleanups.push(() => link.close());
    link.cut();
    const list = createRedisRevocationList({
      redis: link.url,
      namespace: namespace(),
      readyTimeoutMs: 300,
    });
    cleanups.push(() => list.close());
    expect(() => list.isRevoked({ ...queryOf("x"), issuer: "iss" })).toThrow(
      RevocationsUnavailableError,
    );
    await expect(list.ready()).rejects.toBeInstanceOf(RevocationsUnavailableError);
    link.restore();
    expect(await eventually(() => list.status().freshAsOf !== undefined)).toBe(true);
    await expect(list.ready()).resolves.toBeUndefined();
  });
});

function queryOf(tokenOrJti: string): RevocationQuery & { issuer: string; jti: string } {
  if (tokenOrJti.split(".").length === 3) {
    const q = queryFor(tokenOrJti);
    return { ...q, issuer: q.issuer ?? "", jti: q.jti ?? "" };
  }
  return {
    issuer: issuer.issuer,
    jti: tokenOrJti,
    sub: undefined,
    sid: undefined,
    issuedAt: Math.floor(Date.now() / 1000),
    expiresAt: Math.floor(Date.now() / 1000) + 60,
  };
}

function throws(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
}

// The last base64url character of a signature carries unused low bits (4 for a 256-byte RSA
// signature, 2 for a 64-byte ECDSA one); decoders ignore them, so setting them gives another
// string for the same token.
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function withSlackBits(token: string): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const bytes = Buffer.from(signature, "base64url").length;
  const slack = (signature.length * 6 - bytes * 8) as 2 | 4;
  const last = B64URL.indexOf(signature.at(-1) ?? "A");
  const changed = B64URL[last | ((1 << slack) - 1)] ?? "";
  return `${header}.${payload}.${signature.slice(0, -1)}${changed}`;
}

// P-256 group order: s and n − s are both valid ECDSA signatures of the same message.
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function highSTwin(token: string): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const bytes = Buffer.from(signature, "base64url");
  const s = BigInt(`0x${bytes.subarray(32).toString("hex")}`);
  const twin = Buffer.from((P256_N - s).toString(16).padStart(64, "0"), "hex");
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), twin]).toString("base64url")}`;
}
