import type { CryptoKey, KeyObject } from "jose";

/**
 * What the runtime adds beyond WebCrypto and `fetch`. The default entry runs anywhere (Workers,
 * Deno, Bun, browsers); the Node entry (`index.node.ts`, picked by the `node` export condition)
 * fills these in with Node's conveniences.
 */
export interface Platform {
  /** Turns a PEM or a `KeyObject` into a public verification key; throws a TypeError if unusable. */
  importStaticKey: ((key: string | KeyObject) => CryptoKey | KeyObject) | undefined;
  /**
   * A faster signature check than WebCrypto's, where the runtime has one (Node's one-shot
   * `crypto.verify`). Returns `undefined` for what it does not handle.
   */
  verifySignature:
    | ((
        alg: string,
        key: CryptoKey | KeyObject,
        signingInput: string,
        signature: string,
      ) => boolean | undefined)
    | undefined;
  /**
   * Decodes one base64url segment of a compact JWS (already checked to use only the base64url
   * alphabet) into its JSON object, exactly as jose would, or returns `undefined` (bad length,
   * bad UTF-8, not a JSON object, a byte-order mark), and the caller asks jose for its answer.
   * Node's decoder is about three times faster than jose's portable one.
   */
  decodeJsonSegment: ((segment: string) => Record<string, unknown> | undefined) | undefined;
  /** A one-time warning to the developer. */
  emitWarning(message: string, code: string): void;
}

export const platform: Platform = {
  importStaticKey: undefined,
  verifySignature: undefined,
  decodeJsonSegment: undefined,
  emitWarning: (message, code) => console.warn(`${message} [${code}]`),
};
