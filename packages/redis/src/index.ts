export type { RedisClient, RedisConnectionOption } from "./connection.js";
export {
  createRedisReplayStore,
  type RedisReplayStore,
  type RedisReplayStoreOptions,
} from "./replay-store.js";
export {
  createRedisRevocationList,
  type RedisConnectionRole,
  type RedisRevocationEvent,
  type RedisRevocationList,
  type RedisRevocationListOptions,
  type RedisRevocationListStatus,
  type ResyncReason,
  RevocationsUnavailableError,
} from "./revocation-list.js";
