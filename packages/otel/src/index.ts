export { ATTR, METRIC, SPAN } from "./attributes.js";
export {
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  type MeishiTelemetry,
  meishiTelemetry,
  type TelemetryOptions,
} from "./telemetry.js";
