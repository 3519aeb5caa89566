import type { Identity } from "@meishi/core";

/** What API Gateway accepts as a context value: no objects, no arrays (REST API rule). */
export type ContextValue = string | number | boolean;

/** The `context` every authorizer returns; your `context()` option adds to it. */
export interface IdentityContext {
  /** The token's `sub` (empty when it has none). */
  sub: string;
  /** The token's `iss`. */
  iss: string;
  /** The roles as a JSON array text, because a role may contain spaces or commas. */
  roles: string;
  /** The scopes, space-separated as in OAuth (RFC 6749 §3.3). */
  scopes: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  [name: string]: ContextValue;
}

/**
 * Flattens a value the way API Gateway requires: strings, numbers and booleans pass; arrays and
 * objects become JSON text; `null` and `undefined` are left out.
 */
function flattenValue(value: unknown): ContextValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object") return JSON.stringify(value);
  return undefined;
}

export function buildContext(
  identity: Identity,
  extra: ((identity: Identity) => Readonly<Record<string, unknown>>) | undefined,
): IdentityContext {
  const context: IdentityContext = {
    sub: identity.sub ?? "",
    iss: identity.issuer ?? "",
    roles: JSON.stringify(identity.roles),
    scopes: identity.scopes.join(" "),
    exp: Math.floor(identity.expiresAt.getTime() / 1000),
  };
  if (extra === undefined) return context;
  for (const [name, value] of Object.entries(extra(identity))) {
    const flat = flattenValue(value);
    if (flat !== undefined) context[name] = flat;
  }
  return context;
}
