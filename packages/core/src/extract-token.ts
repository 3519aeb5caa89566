import { InvalidRequestError, InvalidTokenError, MissingTokenError } from "./errors.js";

/** A headers object as Node, Express, Koa and Fastify give it, or a Fetch API `Headers`. */
export type HeadersLike =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

/** What token extraction needs from a request. */
export interface TokenRequest {
  /** The request headers. */
  headers: HeadersLike;
  /**
   * The request target (path and query) as received, e.g. Express's `req.originalUrl`. Read for
   * query tokens when allowed, and for a DPoP proof's `htu`.
   */
  url?: string | undefined;
  /** The HTTP method, compared with a DPoP proof's `htm`. */
  method?: string | undefined;
  /**
   * Node's `rawHeaders`. Node keeps only the first of two `Authorization` headers in `headers`;
   * with the raw list, a second one is refused as RFC 6750 asks instead of silently ignored.
   */
  rawHeaders?: readonly string[] | undefined;
}

/** Where a token may come from, and how large it may be. */
export interface TokenSourceOptions {
  /** Largest token accepted, in bytes. Default 16 KiB (Node's whole header limit). */
  maxTokenBytes?: number;
  /**
   * Also accept `?access_token=` (RFC 6750 §2.3). Off by default: URLs end up in logs,
   * browser history and Referer headers.
   */
  allowInsecureQueryToken?: boolean;
  /** Read the token from this cookie when no Authorization header is sent. Default: none. */
  cookieName?: string;
  /** The challenge's `realm`. Default `"api"`. */
  realm?: string;
}

/** Largest token accepted by default: 16 KiB, the size of Node's whole header limit. */
export const DEFAULT_MAX_TOKEN_BYTES: number = 16 * 1024;

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER_PREFIX = /^bearer(?: |$)/i;
const DPOP_PREFIX = /^dpop(?: |$)/i;
// The cache-hit path's scheme check: a bare `Bearer` (no token) is for the full path to refuse.
const BEARER_SPACE = /^bearer ./i;

/** A token and the `Authorization` scheme it came with (cookie and query tokens are bearer). */
export interface Credentials {
  readonly token: string;
  readonly scheme: "bearer" | "dpop";
}

/** Reads one header by its lower-case name, from a Node headers object or a Fetch `Headers`. */
export function readHeader(
  headers: HeadersLike,
  name: string,
): string | readonly string[] | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  // Own properties only: a polluted Object.prototype must never supply a credential.
  if (!Object.hasOwn(headers, name)) return undefined;
  return (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
}

function parseCredentials(
  value: string,
  options: TokenSourceOptions,
  acceptDpop: boolean,
): Credentials | undefined {
  const realm = options.realm;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  // Another scheme (Basic, or DPoP when DPoP is off, …) means no bearer token was offered:
  // RFC 6750 §3.1 says to answer with a bare challenge, not an error code.
  let scheme: Credentials["scheme"];
  if (BEARER_PREFIX.test(trimmed)) scheme = "bearer";
  else if (acceptDpop && DPOP_PREFIX.test(trimmed)) scheme = "dpop";
  else return undefined;
  const credentials = trimmed.slice(scheme === "bearer" ? 6 : 4).trim();
  if (credentials === "") {
    throw new InvalidRequestError({
      realm,
      reason: "malformed_header",
      description: "The Authorization header has no bearer token",
    });
  }
  if (/\s/.test(credentials)) {
    throw new InvalidRequestError({
      realm,
      reason: "multiple_credentials",
      description: "The Authorization header must carry exactly one bearer token",
    });
  }
  return { token: checkTokenShape(credentials, options), scheme };
}

function checkTokenShape(token: string, options: TokenSourceOptions): string {
  const max = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  if (token.length > max) {
    throw new InvalidTokenError({
      realm: options.realm,
      reason: "token_too_large",
      description: "The access token is too large",
    });
  }
  if (!B64TOKEN.test(token)) {
    throw new InvalidTokenError({
      realm: options.realm,
      reason: "malformed_token",
      description: "The access token is malformed",
    });
  }
  return token;
}

/** How many times a header (lower-case name) appears in Node's `rawHeaders`. */
export function countRawHeaders(rawHeaders: readonly string[], lowerName: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name !== undefined && name.length === lowerName.length && name.toLowerCase() === lowerName)
      count++;
  }
  return count;
}

function fromAuthorizationHeader(
  request: TokenRequest,
  options: TokenSourceOptions,
  acceptDpop: boolean,
): Credentials | undefined {
  const raw = readHeader(request.headers, "authorization");
  if (raw === undefined) return undefined;
  if (
    request.rawHeaders !== undefined &&
    countRawHeaders(request.rawHeaders, "authorization") > 1
  ) {
    throw new InvalidRequestError({
      realm: options.realm,
      reason: "multiple_credentials",
      description: "The request must carry exactly one Authorization header",
    });
  }
  if (typeof raw !== "string") {
    // Node joins repeated Authorization headers only for some names; an array means several.
    if (raw.length === 1 && typeof raw[0] === "string")
      return parseCredentials(raw[0], options, acceptDpop);
    throw new InvalidRequestError({
      realm: options.realm,
      reason: "multiple_credentials",
      description: "The request must carry exactly one Authorization header",
    });
  }
  // Some proxies fold duplicates into one comma-separated value.
  if (raw.includes(",")) {
    throw new InvalidRequestError({
      realm: options.realm,
      reason: "multiple_credentials",
      description: "The request must carry exactly one Authorization header",
    });
  }
  return parseCredentials(raw, options, acceptDpop);
}

function fromQueryString(url: string | undefined, options: TokenSourceOptions): string | undefined {
  if (!options.allowInsecureQueryToken || url === undefined) return undefined;
  const queryStart = url.indexOf("?");
  if (queryStart === -1) return undefined;
  const values = new URLSearchParams(url.slice(queryStart + 1)).getAll("access_token");
  if (values.length === 0) return undefined;
  if (values.length > 1 || values[0] === "") {
    throw new InvalidRequestError({
      realm: options.realm,
      reason: values.length > 1 ? "multiple_credentials" : "malformed_header",
      description: "The access_token parameter must appear once with a token",
    });
  }
  return checkTokenShape(values[0]!, options);
}

function fromCookie(headers: HeadersLike, options: TokenSourceOptions): string | undefined {
  const name = options.cookieName;
  if (name === undefined) return undefined;
  const raw = readHeader(headers, "cookie");
  if (raw === undefined) return undefined;
  const cookieHeader = typeof raw === "string" ? raw : raw.join("; ");
  // A cookie header is a flat `name=value; name=value` list (RFC 6265 §4.2.1); a dependency
  // would add more surface than these few lines.
  let found: string | undefined;
  for (const pair of cookieHeader.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    // Two cookies of one name (set for different paths or domains) are as ambiguous as two
    // Authorization headers: which one the client meant cannot be known.
    if (found !== undefined) {
      throw new InvalidRequestError({
        realm: options.realm,
        reason: "multiple_credentials",
        description: "The request must carry exactly one token cookie",
      });
    }
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
      value = value.slice(1, -1);
    found = value;
  }
  return found === undefined || found === "" ? undefined : checkTokenShape(found, options);
}

/**
 * The token after `Bearer ` in the one Authorization header, located without the shape checks,
 * for a lookup among tokens already verified (the verified-token cache): those checks scan the
 * whole token twice, most of what a cache hit would otherwise cost. A string found among
 * verified tokens is a compact JWS, with no whitespace, comma or other character the checks
 * refuse. Returns `undefined` whenever {@link findCredentials} must decide instead: no or
 * several Authorization headers, another scheme, or a cookie or query token configured (which
 * brings the one-place rule into play).
 */
export function peekBearerToken(
  request: TokenRequest,
  options: TokenSourceOptions,
): string | undefined {
  if (options.cookieName !== undefined || options.allowInsecureQueryToken) return undefined;
  const raw = readHeader(request.headers, "authorization");
  if (typeof raw !== "string" || !BEARER_SPACE.test(raw)) return undefined;
  if (
    request.rawHeaders !== undefined &&
    countRawHeaders(request.rawHeaders, "authorization") > 1
  ) {
    return undefined;
  }
  return raw.slice(7);
}

/**
 * Reads the bearer token from a request per RFC 6750 §2: the `Authorization` header (scheme
 * case-insensitive, exactly one credential), then the configured cookie, then, only when
 * allowed, the `access_token` query parameter.
 *
 * @returns The token, or `undefined` when the request offers none (no header, another scheme).
 * @throws {InvalidRequestError} `invalid_request` for two credentials, an empty bearer value or
 *   tokens in more than one place.
 * @throws {InvalidTokenError} `invalid_token` for a token that is too large or not a b64token.
 * @example
 * const token = findToken({ headers: req.headers });
 */
export function findToken(
  request: TokenRequest,
  options: TokenSourceOptions = {},
): string | undefined {
  return findCredentials(request, options, false)?.token;
}

/**
 * {@link findToken} that also says which scheme the token came with; `acceptDpop` reads the
 * `DPoP` scheme (RFC 9449 §7.1) as well as `Bearer`.
 */
export function findCredentials(
  request: TokenRequest,
  options: TokenSourceOptions,
  acceptDpop: boolean,
): Credentials | undefined {
  // Cookie and query string are off by default, and then return at once without allocating.
  const header = fromAuthorizationHeader(request, options, acceptDpop);
  const query = fromQueryString(request.url, options);
  // A cookie is ambient: the browser sends it whatever the client code meant. A request that
  // chose the Authorization header is answered by the header, and a stale or junk cookie
  // beside it is not read at all.
  const cookie = header === undefined ? fromCookie(request.headers, options) : undefined;
  const places =
    Number(header !== undefined) + Number(cookie !== undefined) + Number(query !== undefined);
  if (places > 1) {
    // RFC 6750 §2: clients MUST NOT use more than one method per request.
    throw new InvalidRequestError({
      realm: options.realm,
      reason: "multiple_token_sources",
      description: "The token must be sent in exactly one place",
    });
  }
  if (header !== undefined) return header;
  const token = cookie ?? query;
  return token === undefined ? undefined : { token, scheme: "bearer" };
}

/**
 * Like {@link findToken}, but a request without a token is refused.
 *
 * @throws {MissingTokenError} 401 with a bare `Bearer` challenge when no token is offered.
 * @example
 * const token = extractToken({ headers: { authorization: "Bearer eyJ…" } });
 */
export function extractToken(request: TokenRequest, options: TokenSourceOptions = {}): string {
  const token = findToken(request, options);
  if (token === undefined) throw new MissingTokenError({ realm: options.realm });
  return token;
}
