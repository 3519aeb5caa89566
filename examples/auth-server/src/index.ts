export {
  type AuthServer,
  createAuthServer,
  type ListeningServer,
  type TokenResponse,
} from "./app.js";
export { type AuthServerConfig, configFromEnv, DEMO_USERS, type DemoUser } from "./config.js";
export type { KeyInfo, KeyState, RotationResult } from "./key-store.js";
