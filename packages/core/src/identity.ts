import type { JWTHeaderParameters, JWTPayload } from "jose";
import type { EventListener } from "./events.js";

/**
 * Declare your token's claims once and every adapter picks them up:
 *
 * @example
 * declare module "@meishi/core" {
 *   interface Register { claims: { role: string; tenant: string } }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: an empty interface is what declaration merging extends.
export interface Register {}

/** The claims type: yours from {@link Register}, on top of the registered JWT claims. */
export type AuthClaims = Register extends { claims: infer Claims }
  ? JWTPayload & Claims
  : JWTPayload;

/** A verified token, as adapters attach it to the request. */
export interface Identity<Claims extends JWTPayload = AuthClaims> {
  /** The `sub` claim, when the token has one. */
  readonly sub: string | undefined;
  /** The `iss` claim. */
  readonly issuer: string | undefined;
  /** The whole verified payload (frozen). */
  readonly claims: Readonly<Claims>;
  /** Roles from the configured claim path; each string is one role, never split on spaces. */
  readonly roles: readonly string[];
  /** Scopes from `scope` (space-separated) or `scp` (string or array). */
  readonly scopes: readonly string[];
  /** The verified protected header. */
  readonly header: Readonly<JWTHeaderParameters>;
  /** When the token expires. */
  readonly expiresAt: Date;
  /** The raw token, for forwarding it to another API. */
  readonly token: string;
}

/**
 * A claim path: `"role"`, a dotted path such as `"realm_access.roles"`, or an array of
 * segments for names that contain dots (`["resource_access", "my.client", "roles"]`). A whole
 * claim name that itself contains dots or colons (`"https://example.com/roles"`,
 * `"cognito:groups"`) is matched as is before the path is split.
 */
export type ClaimPath = string | readonly string[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a value at a claim path; `undefined` when any step is missing. */
export function readClaim(claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown {
  if (typeof path === "string") {
    if (Object.hasOwn(claims, path)) return claims[path];
    path = path.split(".");
  }
  let current: unknown = claims;
  for (const segment of path) {
    if (!isRecord(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/** A string is one value; an array keeps its string members; anything else is nothing. */
export function toStringList(value: unknown): string[] {
  if (typeof value === "string") return value === "" ? [] : [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  return [];
}

/** Roles from every configured path, in order, without duplicates. */
export function readRoles(
  claims: Readonly<Record<string, unknown>>,
  paths: readonly ClaimPath[],
): string[] {
  const roles = new Set<string>();
  for (const path of paths)
    for (const role of toStringList(readClaim(claims, path))) roles.add(role);
  return [...roles];
}

/** Scopes per RFC 8693 §4.2 / RFC 9068 §2.2.3 (`scope`, space-separated) or `scp`. */
export function readScopes(claims: Readonly<Record<string, unknown>>): string[] {
  const scope = claims.scope;
  if (typeof scope === "string") return scope.split(" ").filter((item) => item !== "");
  return toStringList(claims.scp)
    .flatMap((item) => item.split(" "))
    .filter((item) => item !== "");
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** What a guard needs from the verifier that produced an identity. */
export interface IdentityOrigin {
  readonly realm: string;
  readonly onEvent: EventListener | undefined;
}

// Guards run in adapters that never see the verifier; its realm and event listener travel with
// each identity it produced, without adding a field to the public shape.
const origins = new WeakMap<object, IdentityOrigin>();

/** The verifier settings behind this identity, if a verifier produced it. */
export function originOf(identity: object): IdentityOrigin | undefined {
  return origins.get(identity);
}

export function createIdentity<Claims extends JWTPayload>(
  token: string,
  payload: Claims,
  header: JWTHeaderParameters,
  rolePaths: readonly ClaimPath[],
  origin: IdentityOrigin,
): Identity<Claims> {
  // Identities may be shared through the verified-token cache, so nothing in one may change.
  const identity = deepFreeze({
    sub: typeof payload.sub === "string" ? payload.sub : undefined,
    issuer: typeof payload.iss === "string" ? payload.iss : undefined,
    claims: payload,
    roles: readRoles(payload, rolePaths),
    scopes: readScopes(payload),
    header,
    expiresAt: new Date((payload.exp ?? 0) * 1000),
    token,
  });
  origins.set(identity, origin);
  return identity;
}
