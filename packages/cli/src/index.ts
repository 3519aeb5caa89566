export {
  cleanToken,
  inspectToken,
  LONG_LIFETIME_SEC,
  type TokenInspection,
  type TokenTime,
  type TokenWarning,
} from "./inspect-token.js";
export type { CliIo } from "./output.js";
export { run } from "./run.js";
