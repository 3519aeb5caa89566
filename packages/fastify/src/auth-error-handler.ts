import { isAuthError } from "@meishi/core";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * An error handler for `fastify.setErrorHandler()` that answers meishi's errors with the
 * RFC 6750 JSON body (`{ error, error_description }`), their status and their
 * `WWW-Authenticate` / `Retry-After` headers. Any other error is rethrown, which hands it to
 * the parent (by default Fastify's own) error handler.
 *
 * Optional: without it Fastify's default handler already sends the right status and headers,
 * with its `{ statusCode, code, error, message }` body.
 * @example
 * fastify.setErrorHandler(authErrorHandler);
 */
export function authErrorHandler(
  error: unknown,
  _request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (!isAuthError(error)) throw error;
  return reply.code(error.status).headers(error.headers).send(error.toJSON());
}
