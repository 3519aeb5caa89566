/**
 * What an API publishes about itself as an OAuth protected resource (RFC 9728): the document
 * MCP clients and other OAuth clients read to find the authorization server.
 */
export interface ResourceMetadataOptions {
  /**
   * The resource identifier: the API's URL as clients call it, e.g. `"https://api.example.com"`
   * (https; http only on loopback). Also the default DPoP public origin.
   */
  resource: string;
  /** Issuer URLs of the authorization servers that issue tokens for this API. */
  authorizationServers: readonly string[];
  /** Scopes this API understands, sent as `scopes_supported`. */
  scopesSupported?: readonly string[];
  /** A human-readable name, sent as `resource_name`. */
  resourceName?: string;
  /** A page for developers, sent as `resource_documentation`. */
  resourceDocumentation?: string;
  /** Further RFC 9728 members, sent as given (snake_case names). */
  extra?: Readonly<Record<string, unknown>>;
}

/** The metadata a verifier serves, resolved at start-up. */
export interface ResourceMetadata {
  /** The metadata URL sent as `resource_metadata` in every challenge (RFC 9728 §5.1). */
  readonly url: string;
  /** The paths it is served at: `/.well-known/oauth-protected-resource` and the path-suffixed form. */
  readonly paths: readonly string[];
  /** The JSON document. */
  readonly document: Readonly<Record<string, unknown>>;
}

/** An HTTP answer an adapter sends as it is. */
export interface MetadataResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The well-known path of RFC 9728 §3. */
export const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

const RESOURCE_METADATA_KEYS = [
  "resource",
  "authorizationServers",
  "scopesSupported",
  "resourceName",
  "resourceDocumentation",
  "extra",
];

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

function checkUrl(fail: (message: string) => never, name: string, value: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    !(url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname))) ||
    url.hash !== "" ||
    url.search !== ""
  ) {
    fail(`${name} must be an https URL (http only on loopback) with no query or fragment`);
  }
  return url;
}

/** Validates `resourceMetadata` at start-up and builds the document once. */
export function resolveResourceMetadata(
  fail: (message: string) => never,
  value: unknown,
  facts: {
    dpopAlgorithms: readonly string[] | undefined;
    dpopRequired: boolean;
    queryTokens: boolean;
  },
): ResourceMetadata | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("resourceMetadata must be an object such as { resource, authorizationServers }");
  }
  for (const name of Object.keys(value)) {
    if (!RESOURCE_METADATA_KEYS.includes(name)) {
      fail(`unknown option resourceMetadata.${name}; known: ${RESOURCE_METADATA_KEYS.join(", ")}`);
    }
  }
  const options = value as ResourceMetadataOptions;
  const resource = checkUrl(fail, "resourceMetadata.resource", options.resource);
  const servers = options.authorizationServers;
  if (!Array.isArray(servers) || servers.length === 0) {
    fail("resourceMetadata.authorizationServers must list at least one issuer URL");
  }
  for (const server of servers) checkUrl(fail, "resourceMetadata.authorizationServers[]", server);
  const scopes = options.scopesSupported;
  if (
    scopes !== undefined &&
    (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== "string" || scope === ""))
  ) {
    fail("resourceMetadata.scopesSupported must be an array of scope names");
  }
  const extra = options.extra ?? {};
  if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
    fail("resourceMetadata.extra must be an object of RFC 9728 members");
  }
  // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
  const resourcePath = resource.pathname === "/" ? "" : resource.pathname.replace(/\/$/, "");
  const suffixed = `${RESOURCE_METADATA_PATH}${resourcePath}`;
  const document: Record<string, unknown> = {
    ...extra,
    resource: options.resource,
    authorization_servers: [...servers],
    bearer_methods_supported: facts.queryTokens ? ["header", "query"] : ["header"],
  };
  if (scopes !== undefined) document.scopes_supported = [...scopes];
  if (facts.dpopAlgorithms !== undefined) {
    document.dpop_signing_alg_values_supported = [...facts.dpopAlgorithms];
    document.dpop_bound_access_tokens_required = facts.dpopRequired;
  }
  if (options.resourceName !== undefined) document.resource_name = options.resourceName;
  if (options.resourceDocumentation !== undefined) {
    document.resource_documentation = options.resourceDocumentation;
  }
  return Object.freeze({
    url: `${resource.origin}${suffixed}`,
    paths: Object.freeze([...new Set([RESOURCE_METADATA_PATH, suffixed])]),
    document: Object.freeze(document),
  });
}

/**
 * The answer to a request for the metadata, or `undefined` when the request is for something
 * else (so the adapter goes on). `path` is the request path without the query.
 * @example
 * const answer = metadataResponse(verifier.resourceMetadata, req.method, req.path);
 */
export function metadataResponse(
  metadata: ResourceMetadata | undefined,
  method: string,
  path: string,
): MetadataResponse | undefined {
  if (metadata === undefined || !metadata.paths.includes(path)) return undefined;
  if (method !== "GET" && method !== "HEAD") {
    return {
      status: 405,
      headers: { allow: "GET, HEAD", "content-type": "application/json" },
      body: JSON.stringify({ error: "method_not_allowed" }),
    };
  }
  return {
    status: 200,
    headers: {
      "content-type": "application/json",
      "cache-control": "max-age=300",
      // Browser-based clients (MCP inspectors, SPAs) read it cross-origin; it holds nothing secret.
      "access-control-allow-origin": "*",
    },
    body: JSON.stringify(metadata.document),
  };
}
