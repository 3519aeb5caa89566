// The Node entry: everything the portable entry has, plus PEM and KeyObject static keys and
// process warnings. Picked by the `node` export condition.
import { toPublicKeyObject } from "./node-keys.js";
import { platform } from "./platform.js";

platform.importStaticKey = toPublicKeyObject;
platform.emitWarning = (message, code) => process.emitWarning(message, { code });

export * from "./index.js";
