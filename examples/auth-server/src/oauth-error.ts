import { isAuthError } from "@meishi/express";
import type { ErrorRequestHandler, Response } from "express";

/** The error codes this server answers with (RFC 6749 §5.2, plus `not_found`/`server_error`). */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_grant"
  | "unsupported_grant_type"
  | "invalid_dpop_proof"
  | "temporarily_unavailable"
  | "not_found"
  | "server_error";

/** An error the client may see: status plus the RFC 6749 §5.2 JSON body. */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: OAuthErrorCode;

  constructor(status: number, error: OAuthErrorCode, description: string) {
    super(description);
    this.name = "OAuthError";
    this.status = status;
    this.error = error;
  }
}

function send(res: Response, status: number, error: string, description: string): void {
  res.status(status).json({ error, error_description: description });
}

interface BodyParserError {
  status: number;
  type: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { status?: unknown }).status === "number" &&
    typeof (error as { type?: unknown }).type === "string"
  );
}

/**
 * Last error middleware: OAuth errors as `{ error, error_description }`, meishi's auth errors
 * (admin routes) as RFC 6750 JSON with their `WWW-Authenticate` header, body-parser failures as
 * `invalid_request`, anything else as a bare 500. Never a stack trace.
 */
export function errorHandler(onError: (error: unknown) => void): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof OAuthError) {
      send(res, error.status, error.error, error.message);
    } else if (isAuthError(error)) {
      res.status(error.status).set(error.headers).json(error.toJSON());
    } else if (isBodyParserError(error) && error.status >= 400 && error.status < 500) {
      const description =
        error.type === "entity.parse.failed"
          ? "request body is not valid JSON"
          : error.type === "entity.too.large"
            ? "request body is too large"
            : "request body could not be read";
      send(res, error.status, "invalid_request", description);
    } else {
      onError(error);
      send(res, 500, "server_error", "internal error");
    }
  };
}
