/**
 * Key layout. Every key of one deny-list shares the hash tag `{namespace}`, so in a Redis
 * Cluster they live in one slot and a write, its sequence number and its message run in one
 * atomic script on one shard. The channel names carry the same tag.
 */
export interface KeyLayout {
  readonly tokens: string;
  readonly sessions: string;
  readonly subjects: string;
  readonly issuers: string;
  readonly seq: string;
  readonly channel: string;
  heartbeatChannel(processId: string): string;
}

export function keyLayout(namespace: string): KeyLayout {
  const tag = `{${namespace}}`;
  return Object.freeze({
    tokens: `${tag}:tokens`,
    sessions: `${tag}:sessions`,
    subjects: `${tag}:subjects`,
    issuers: `${tag}:issuers`,
    seq: `${tag}:seq`,
    channel: `${tag}:events`,
    heartbeatChannel: (processId: string) => `${tag}:heartbeat:${processId}`,
  });
}

/** The kinds of entry, one letter each on the wire. */
export type EntryKind = "t" | "s" | "u" | "i";

// A member is `<issuer length>:<issuer><value>`: unambiguous whatever either string contains.
export function pairMember(issuer: string, value: string): string {
  return `${issuer.length}:${issuer}${value}`;
}

export function splitPair(member: string): [issuer: string, value: string] | undefined {
  const colon = member.indexOf(":");
  if (colon <= 0) return undefined;
  const length = Number(member.slice(0, colon));
  if (!Number.isSafeInteger(length) || length < 0 || colon + 1 + length > member.length) {
    return undefined;
  }
  return [member.slice(colon + 1, colon + 1 + length), member.slice(colon + 1 + length)];
}

/** One change as published: `seq|kind|score|member`. */
export interface Change {
  readonly seq: number;
  readonly kind: EntryKind;
  readonly score: number;
  readonly member: string;
}

export function parseChange(message: string): Change | undefined {
  const a = message.indexOf("|");
  const b = message.indexOf("|", a + 1);
  const c = message.indexOf("|", b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const seq = Number(message.slice(0, a));
  const kind = message.slice(a + 1, b);
  const score = Number(message.slice(b + 1, c));
  if (!Number.isSafeInteger(seq) || !Number.isFinite(score)) return undefined;
  if (kind !== "t" && kind !== "s" && kind !== "u" && kind !== "i") return undefined;
  return { seq, kind, score, member: message.slice(c + 1) };
}

/**
 * Adds or raises one entry, drops expired ones (score at or below the drop line, as the local
 * copy forgets an entry at its end), extends the key's TTL to cover the entry,
 * bumps the sequence number and publishes the change, all atomically.
 * KEYS: zset, seq. ARGV: member, score, drop-below score, keep-seconds, channel, kind.
 */
export const REVOKE_SCRIPT = `
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not current) or tonumber(current) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local keep = tonumber(ARGV[4])
if redis.call('TTL', KEYS[1]) < keep then redis.call('EXPIRE', KEYS[1], keep) end
local seq = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[5], seq .. '|' .. ARGV[6] .. '|' .. ARGV[2] .. '|' .. ARGV[1])
return seq
`;

/**
 * Publishes the current sequence number on this process's heartbeat channel, from the shard
 * that owns the deny-list, so it arrives after every change published before it.
 * KEYS: seq. ARGV: channel, sent-at.
 */
export const HEARTBEAT_SCRIPT = `
local seq = redis.call('GET', KEYS[1]) or '0'
redis.call('PUBLISH', ARGV[1], seq .. '|' .. ARGV[2])
return seq
`;
