export type {
  AddKeyOptions,
  RequestCounts,
  RotateOptions,
  SetFaultOptions,
  SignOptions,
  TestIssuer,
  TestIssuerOptions,
} from "./create-test-issuer.js";
export { createTestIssuer } from "./create-test-issuer.js";
export { createDpopClient, type DpopClient, type DpopProofOptions } from "./dpop.js";
export type { FaultEndpoint, FaultSpec } from "./faults.js";
export type { TestAlgorithm, TestKey } from "./keys.js";
export { generateTestKey, TEST_ALGORITHMS } from "./keys.js";
export {
  createUnsecuredToken,
  decodeTokenParts,
  signHmacToken,
  signToken,
  tamperPayload,
} from "./tokens.js";
