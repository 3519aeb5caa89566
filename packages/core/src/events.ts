import type { RejectReason } from "./errors.js";
import type { FetchFailureReason } from "./fetch-json.js";

/**
 * Everything meishi reports, for logs, metrics and alerts. Delivered synchronously to the
 * `onEvent` option; a throwing listener is ignored so it can never fail a request.
 */
export type MeishiEvent =
  | {
      type: "jwks_fetched";
      /** The JWKS (or discovery document) URL. */
      uri: string;
      document: "jwks" | "discovery";
      durationMs: number;
      /** Usable keys in the new set (JWKS only). */
      keyCount: number;
    }
  | {
      type: "jwks_fetch_failed";
      uri: string;
      document: "jwks" | "discovery";
      durationMs: number;
      reason: FetchFailureReason;
      /** True when cached keys keep serving (stale-if-error); false means requests get 503. */
      servingStale: boolean;
      error: Error;
    }
  | { type: "jwks_stale_served"; uri: string; document: "jwks" | "discovery"; staleForMs: number }
  | { type: "key_ignored"; uri: string; kid: string | undefined; why: string }
  | { type: "key_rotation_seen"; uri: string; added: string[]; removed: string[] }
  | { type: "kid_miss"; uri: string; kid: string; refetched: boolean }
  | {
      type: "token_rejected";
      reason: RejectReason;
      status: number;
      /** The refusal: reason, generic description, `details` of the failed check; no claims. */
      error: Error;
    }
  | {
      /** Emitted only when an `onEvent` listener is configured (it costs a clock read). */
      type: "token_verified";
      /** The token's `iss`. */
      issuer: string | undefined;
      /** True when the verified-token cache answered (no signature check). */
      cached: boolean;
      /** Time spent in `verify`, revocation included. */
      durationMs: number;
    }
  | {
      type: "token_revoked";
      /** The revoked token's `iss` and `jti` (identifiers, not claims' content). */
      issuer: string | undefined;
      jti: string | undefined;
    };

/** Receives {@link MeishiEvent}s. */
export type EventListener = (event: MeishiEvent) => void;

export function safeEmit(listener: EventListener | undefined, event: MeishiEvent): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // A logging bug must not turn into a failed request.
  }
}
