import type { AuthError } from "./errors.js";

/**
 * Where meishi tells the developer why a token was refused or keys could not be had.
 * Pino-compatible (Fastify's `request.log` and `fastify.log` fit as they are); the default
 * writes one line to the console.
 */
export interface DiagnosticLogger {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

/** The default logger: one `meishi: …` line on stderr per message. */
export const consoleLogger: DiagnosticLogger = Object.freeze({
  warn: (_details: Record<string, unknown>, message: string) => console.warn(`meishi: ${message}`),
  error: (_details: Record<string, unknown>, message: string) =>
    console.error(`meishi: ${message}`),
});

/** One line per kind of problem per this many milliseconds, so a flood cannot flood the log. */
export const DIAGNOSTIC_INTERVAL_MS = 60_000;

interface Window {
  loggedAt: number;
  suppressed: number;
}

/**
 * Rate-limited, developer-facing explanations. Clients only ever see generic descriptions; the
 * log names the check and the expected and actual values. Keys are reason codes and configured
 * URLs, a finite set, so the map stays small whatever attackers send.
 */
export class Diagnostics {
  readonly #logger: DiagnosticLogger | undefined;
  readonly #windows = new Map<string, Window>();

  constructor(logger: DiagnosticLogger | false | undefined) {
    this.#logger = logger === false ? undefined : (logger ?? consoleLogger);
  }

  /** Explains a refusal (never a missing token: that is routine, not a mistake). */
  refused(error: AuthError, log?: DiagnosticLogger): void {
    if (error.reason === "missing_token") return;
    const logger = log ?? this.#logger;
    if (logger === undefined) return;
    const suppressed = this.#admit(`${error.status}:${error.reason}`);
    if (suppressed === undefined) return;
    const why =
      error.details?.message ?? (error.cause instanceof Error ? error.cause.message : undefined);
    const more = suppressed > 0 ? ` (${suppressed} more like this since the last line)` : "";
    const message = `${error.status} ${error.code} (${error.reason})${why === undefined ? "" : `: ${why}`}${more}`;
    const details = {
      meishi: {
        status: error.status,
        code: error.code,
        reason: error.reason,
        ...(error.details === undefined ? {} : { details: error.details }),
      },
    };
    try {
      if (error.status >= 500) logger.error(details, message);
      else logger.warn(details, message);
    } catch {
      // A broken logger must not fail the request it is reporting on.
    }
  }

  /** Reports a failed JWKS or discovery fetch, with its URL and reason. */
  fetchFailed(uri: string, reason: string, servingStale: boolean, message: string): void {
    const logger = this.#logger;
    if (logger === undefined) return;
    const suppressed = this.#admit(`fetch:${uri}:${reason}`);
    if (suppressed === undefined) return;
    const outcome = servingStale ? "serving cached keys" : "requests get 503 until it recovers";
    const more = suppressed > 0 ? ` (${suppressed} more since the last line)` : "";
    try {
      logger.error(
        { meishi: { uri, reason, servingStale } },
        `fetching ${uri} failed (${reason}: ${message}); ${outcome}${more}`,
      );
    } catch {
      // As above.
    }
  }

  /** The number suppressed since the last line when one may be written now, else undefined. */
  #admit(key: string): number | undefined {
    const now = Date.now();
    const window = this.#windows.get(key);
    if (window === undefined) {
      this.#windows.set(key, { loggedAt: now, suppressed: 0 });
      return 0;
    }
    if (now - window.loggedAt < DIAGNOSTIC_INTERVAL_MS) {
      window.suppressed += 1;
      return undefined;
    }
    const suppressed = window.suppressed;
    window.loggedAt = now;
    window.suppressed = 0;
    return suppressed;
  }
}
