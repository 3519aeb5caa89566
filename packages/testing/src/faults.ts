/**
 * A misbehaviour for the test issuer's JWKS and/or discovery endpoint, set with
 * `issuer.setFault(spec, { endpoint, times })`.
 *
 * - `slow`: wait `delayMs` milliseconds, then answer normally.
 * - `status`: answer `status` with a short `text/plain` body.
 * - `html`: 200 `text/html` (a login page where JSON was expected).
 * - `invalid-json`: 200 `application/json` with the body `{not json`.
 * - `not-jwks`: 200 JSON that is not a JWKS: `{"hello":"world"}`.
 * - `bad-keys`: 200 JWKS where every published key is broken under its own `kid` (RSA `n` not
 *   base64url, EC/OKP with an unknown `crv`), plus one key of unknown `kty`.
 * - `huge`: 200 JSON of exactly `bytes` bytes (minimum 11): `{"keys":[` padded with spaces,
 *   then `]}`; streamed with a `Content-Length`, never held in memory.
 * - `redirect`: `status` (default 302) with `Location: location`.
 * - `close`: destroy the socket without answering.
 * - `reset-mid-body`: send headers and half the normal body, then destroy the socket.
 * - `hang`: never answer, until `issuer.close()`.
 * - `body`: answer exactly `body` with `status` (default 200) and `contentType` (default
 *   `application/json`): a lying server.
 *
 * @example
 * ```ts
 * issuer.setFault({ kind: "status", status: 503 }, { endpoint: "jwks", times: 1 });
 * ```
 */
export type FaultSpec =
  | { kind: "slow"; delayMs: number }
  | { kind: "status"; status: number }
  | { kind: "html" }
  | { kind: "invalid-json" }
  | { kind: "not-jwks" }
  | { kind: "bad-keys" }
  | { kind: "huge"; bytes: number }
  | { kind: "redirect"; location: string; status?: number }
  | { kind: "close" }
  | { kind: "reset-mid-body" }
  | { kind: "hang" }
  | { kind: "body"; body: string; contentType?: string; status?: number };

/**
 * Which endpoint a fault applies to: `"jwks"`, `"discovery"`, or `"all"` (both).
 *
 * @example
 * ```ts
 * const endpoint: FaultEndpoint = "jwks";
 * ```
 */
export type FaultEndpoint = "jwks" | "discovery" | "all";
