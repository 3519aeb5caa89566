import type { Loaded } from "./cached-remote.js";
import { checkFetchableUrl, FetchFailure, fetchJson } from "./fetch-json.js";

export interface DiscoveryConfig {
  timeoutMs: number;
  maxResponseBytes: number;
  allowInsecureHttp: boolean;
}

/** The OIDC discovery document's URL for an issuer (OIDC Discovery §4). */
export function discoveryUrlFor(issuer: string): URL {
  return new URL(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
}

/**
 * Fetches the OIDC discovery document and returns its `jwks_uri`, after checking that the
 * document speaks for exactly the configured issuer (OIDC Discovery §4.3): otherwise a
 * compromised or mistaken document could point us at someone else's keys. An https issuer's
 * keys must come over https too: a document that names a plain-http `jwks_uri` (even on
 * loopback) would downgrade every later key fetch.
 */
export function discoveryLoader(
  issuer: string,
  config: DiscoveryConfig,
): () => Promise<Loaded<URL>> {
  const discoveryUrl = discoveryUrlFor(issuer);
  return async () => {
    const { body, maxAgeSec } = await fetchJson(discoveryUrl, config);
    const doc = body as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (typeof doc !== "object" || doc === null || doc.issuer !== issuer) {
      throw new FetchFailure("invalid_document", "discovery issuer does not match");
    }
    if (typeof doc.jwks_uri !== "string" || !URL.canParse(doc.jwks_uri)) {
      throw new FetchFailure("invalid_document", "discovery document has no valid jwks_uri");
    }
    const jwksUri = new URL(doc.jwks_uri);
    if (discoveryUrl.protocol === "https:" && jwksUri.protocol !== "https:") {
      throw new FetchFailure(
        "insecure_url",
        `discovery for an https issuer names a non-https jwks_uri ${jwksUri.origin}`,
      );
    }
    checkFetchableUrl(jwksUri, config.allowInsecureHttp);
    return { value: jwksUri, maxAgeSec };
  };
}
