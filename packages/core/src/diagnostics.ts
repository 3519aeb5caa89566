/**
 * Where meishi tells the developer why a token was refused. Pino-compatible (Fastify's
 * `request.log`, `fastify.log`), and `console` fits through {@link consoleLogger}.
 */
export interface DiagnosticLogger {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}
