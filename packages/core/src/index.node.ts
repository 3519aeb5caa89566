// The Node entry: everything the portable entry has, plus PEM and KeyObject static keys and
// process warnings. Picked by the `node` export condition.
import { toPublicKeyObject } from "./node-keys.js";
import { decodeJsonSegmentWithNode, verifySignatureWithNode } from "./node-verify.js";
import { platform } from "./platform.js";

platform.importStaticKey = toPublicKeyObject;
// MEISHI_WEBCRYPTO_ONLY=1 keeps jose's WebCrypto path and decoding, for the differential test
// and the bench.
if (process.env.MEISHI_WEBCRYPTO_ONLY !== "1") {
  platform.verifySignature = verifySignatureWithNode;
  platform.decodeJsonSegment = decodeJsonSegmentWithNode;
}
platform.emitWarning = (message, code) => process.emitWarning(message, { code });

export * from "./index.js";
