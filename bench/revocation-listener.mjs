// A second API process for revocation.mjs's propagation figure: it keeps a Redis revocation
// list and, told a jti over IPC, spins until its local copy refuses it, then reports when.
import { createRedisRevocationList } from "@meishi/redis";

const list = createRedisRevocationList({
  redis: process.env.REDIS_URL,
  namespace: process.env.REDIS_NS,
});
await list.ready();
const issuer = process.env.ISSUER;

process.on("message", (message) => {
  if (message === "stop") {
    list.close().then(() => process.exit(0));
    return;
  }
  const query = {
    issuer,
    jti: message.jti,
    sub: undefined,
    sid: undefined,
    issuedAt: undefined,
    expiresAt: message.expiresAt,
  };
  // setImmediate lets the pub/sub message in between checks, so the time is within a tick.
  const check = () => {
    if (list.isRevoked(query)) {
      process.send({ jti: message.jti, at: performance.timeOrigin + performance.now() });
    } else {
      setImmediate(check);
    }
  };
  check();
});
process.send("ready");
