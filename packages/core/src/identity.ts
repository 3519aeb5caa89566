import type { JWTHeaderParameters, JWTPayload } from "jose";
import type { DiagnosticLogger } from "./diagnostics.js";
import type { AuthError } from "./errors.js";
import type { AuthRule } from "./rules.js";

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
  /** When the token expires: a new `Date` on each read, so the identity itself never changes. */
  readonly expiresAt: Date;
  /** The raw token, for forwarding it to another API. */
  readonly token: string;
}

/**
 * Where a claim lives: a dotted path (`"role"`, `"realm_access.roles"`, `"cognito:groups"`),
 * always split on dots; or an array of segments for names that contain dots
 * (`["resource_access", "my.client", "roles"]`, `["https://example.com/roles"]`). An array of
 * strings is always ONE path.
 */
export type ClaimPath = string | readonly string[];

/**
 * Where roles live: one {@link ClaimPath}, or several paths each written as an array of
 * segments (`[["realm_access", "roles"], ["resource_access", "my.client", "roles"]]`).
 */
export type RolesClaim = ClaimPath | readonly (readonly string[])[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Splits a claim path into segments, or returns a reason it is unusable. Exact and unambiguous:
 * a string is split on every dot; an array is taken as its segments.
 */
export function claimPathSegments(path: ClaimPath): readonly string[] | string {
  if (typeof path === "string") {
    if (path.includes("://")) {
      return `"${path}" looks like a URI claim name; write it as one segment: ["${path}"]`;
    }
    const segments = path.split(".");
    if (segments.some((segment) => segment === "")) {
      return `"${path}" has an empty segment; for names with dots write an array of segments`;
    }
    return Object.freeze(segments);
  }
  if (
    !Array.isArray(path) ||
    path.length === 0 ||
    path.some((segment) => typeof segment !== "string" || segment === "")
  ) {
    return "a claim path is a dotted string or a non-empty array of non-empty strings";
  }
  return Object.freeze([...path]);
}

/** Reads the value at already-split segments, through own properties only. */
export function readSegments(
  claims: Readonly<Record<string, unknown>>,
  segments: readonly string[],
): unknown {
  let current: unknown = claims;
  for (const segment of segments) {
    // Own properties only: a polluted Object.prototype must never supply a claim.
    if (!isRecord(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/** Reads a value at a claim path; `undefined` when any step is missing or the path is unusable. */
export function readClaim(claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown {
  const segments = claimPathSegments(path);
  return typeof segments === "string" ? undefined : readSegments(claims, segments);
}

/** Reads an own top-level claim. */
export function ownClaim(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(claims, name) ? claims[name] : undefined;
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
  paths: readonly (readonly string[])[],
): string[] {
  const roles = new Set<string>();
  for (const path of paths)
    for (const role of toStringList(readSegments(claims, path))) roles.add(role);
  return [...roles];
}

/** Scopes per RFC 8693 §4.2 / RFC 9068 §2.2.3 (`scope`, space-separated) or `scp`. */
export function readScopes(claims: Readonly<Record<string, unknown>>): string[] {
  const scope = ownClaim(claims, "scope");
  if (typeof scope === "string") return scope.split(" ").filter((item) => item !== "");
  return toStringList(ownClaim(claims, "scp"))
    .flatMap((item) => item.split(" "))
    .filter((item) => item !== "");
}

// Rough V8 costs, measured with bench/flood.mjs (`cache-memory` row): an object or array
// header with its hidden class and backing store, a property slot, a string header. They
// bound the verified-token cache by what an entry really holds, not by token characters.
const OBJECT_BYTES = 96;
const SLOT_BYTES = 24;
const STRING_BYTES = 32;

/**
 * Freezes a value deeply and returns roughly how many bytes of heap it holds. Iterative: a
 * validly signed payload may nest thousands of levels deep, and recursion would overflow.
 */
function freezeAndMeasure(root: unknown): number {
  let bytes = 0;
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "string") {
      bytes += STRING_BYTES + value.length * 2;
    } else if (typeof value !== "object" || value === null) {
      bytes += SLOT_BYTES;
    } else {
      Object.freeze(value);
      bytes += OBJECT_BYTES;
      for (const key of Object.keys(value)) {
        bytes += SLOT_BYTES + key.length;
        pending.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return bytes;
}

/** What a guard needs from the verifier that produced an identity. */
export interface IdentityOrigin {
  readonly realm: string;
  /** Emits the refusal as an event and tells the developer why. */
  report(error: AuthError, log?: DiagnosticLogger): void;
  /** Where roles were read from, so a refusal can say so. */
  readonly rolePaths: readonly (readonly string[])[];
  /** The verifier's own authorization (its realm and challenges), for guards that get only the identity. */
  readonly authorize?: (
    identity: Identity,
    rules: readonly AuthRule[],
    log?: DiagnosticLogger,
  ) => void;
}

/**
 * The identity a verifier produces. A class rather than an object literal: a literal with a
 * getter (and a WeakMap entry for its origin) cost about 1 µs per verified token, a fifth of
 * what meishi adds to a signature check; a class instance with a private field costs a few
 * nanoseconds. Guards run in adapters that never see the verifier; its realm and event listener
 * travel with each identity in that private field, without adding a field to the public shape.
 */
class VerifiedIdentity<Claims extends JWTPayload> implements Identity<Claims> {
  readonly sub: string | undefined;
  readonly issuer: string | undefined;
  readonly claims: Readonly<Claims>;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly header: Readonly<JWTHeaderParameters>;
  readonly token: string;
  readonly #expMs: number;
  readonly #origin: IdentityOrigin;

  constructor(
    token: string,
    claims: Claims,
    header: JWTHeaderParameters,
    roles: readonly string[],
    scopes: readonly string[],
    origin: IdentityOrigin,
  ) {
    const sub = ownClaim(claims, "sub");
    const iss = ownClaim(claims, "iss");
    const expSec = ownClaim(claims, "exp");
    this.sub = typeof sub === "string" ? sub : undefined;
    this.issuer = typeof iss === "string" ? iss : undefined;
    this.claims = claims;
    this.roles = roles;
    this.scopes = scopes;
    this.header = header;
    this.token = token;
    this.#expMs = (typeof expSec === "number" ? expSec : 0) * 1000;
    this.#origin = origin;
    // Identities are shared through the verified-token cache, so nothing reachable from one
    // may change.
    Object.freeze(this);
  }

  /** A Date is mutable even when frozen (its setters write an internal slot): a copy per read. */
  get expiresAt(): Date {
    return new Date(this.#expMs);
  }

  /** What `JSON.stringify` and loggers see: the public fields, `expiresAt` included. */
  toJSON(): Record<string, unknown> {
    const { sub, issuer, claims, roles, scopes, header, expiresAt, token } = this;
    return { sub, issuer, claims, roles, scopes, header, expiresAt, token };
  }

  static originOf(identity: object): IdentityOrigin | undefined {
    return #origin in identity ? (identity as VerifiedIdentity<JWTPayload>).#origin : undefined;
  }
}

/** The verifier settings behind this identity, if a verifier produced it. */
export function originOf(identity: object): IdentityOrigin | undefined {
  return VerifiedIdentity.originOf(identity);
}

/** A new identity and roughly how many heap bytes it keeps alive (for the cache's bound). */
export function createIdentity<Claims extends JWTPayload>(
  token: string,
  payload: Claims,
  header: JWTHeaderParameters,
  origin: IdentityOrigin,
): { identity: Identity<Claims>; retainedBytes: number } {
  const roles = readRoles(payload, origin.rolePaths);
  const scopes = readScopes(payload);
  const retainedBytes =
    OBJECT_BYTES * 2 +
    freezeAndMeasure(payload) +
    freezeAndMeasure(header) +
    freezeAndMeasure(roles) +
    freezeAndMeasure(scopes) +
    token.length;
  const identity = new VerifiedIdentity(token, payload, header, roles, scopes, origin);
  return { identity, retainedBytes };
}
