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
  /** A one-time warning to the developer. */
  emitWarning(message: string, code: string): void;
}

export const platform: Platform = {
  importStaticKey: undefined,
  verifySignature: undefined,
  emitWarning: (message, code) => console.warn(`${message} [${code}]`),
};
