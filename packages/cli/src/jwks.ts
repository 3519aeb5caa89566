import { createRemoteKeySource, type JwksSnapshot } from "@meishi/core";
import { type Command, type CommandContext, stringFlag } from "./command.js";
import { UsageError } from "./output.js";
import { parseDuration } from "./time.js";

/** A published key as `meishi jwks` reports it. */
export interface KeyReport {
  kid: string | null;
  kty: string | null;
  alg: string | null;
  use: string | null;
  /** "RSA 2048", "P-256", "Ed25519", "oct 256". */
  strength: string | null;
}

/** Something wrong with what an issuer publishes. */
export interface JwksProblem {
  code: string;
  message: string;
}

interface Fetched {
  url: string;
  status: number;
  headers: Headers;
  body: unknown;
}

const CACHING_HEADERS = ["cache-control", "expires", "age", "etag", "last-modified", "date"];
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth"];
const MAX_BYTES = 1024 * 1024;
// Keys a snapshot must never carry forward into a deployment.
const SNAPSHOT_BLOCKERS = ["issuer_mismatch", "private_key", "symmetric_key", "insecure_transport"];
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

async function fetchJson(url: string, timeoutMs: number): Promise<Fetched> {
  const response = await fetch(url, {
    headers: { accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (text.length > MAX_BYTES) throw new Error(`${url} answered more than 1 MiB`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { url: response.url || url, status: response.status, headers: response.headers, body };
}

function bitLength(base64url: unknown): number | undefined {
  if (typeof base64url !== "string") return undefined;
  const bytes = Buffer.from(base64url, "base64url");
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  if (start === bytes.length) return 0;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start]!));
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function reportKey(jwk: Record<string, unknown>): KeyReport {
  const kty = str(jwk.kty);
  let strength: string | null = null;
  if (kty === "RSA") strength = `RSA ${bitLength(jwk.n) ?? "?"}`;
  else if (kty === "EC" || kty === "OKP") strength = str(jwk.crv);
  else if (kty === "oct") strength = `oct ${bitLength(jwk.k) ?? "?"}`;
  return { kid: str(jwk.kid), kty, alg: str(jwk.alg), use: str(jwk.use), strength };
}

function keyProblems(jwks: Record<string, unknown>[]): JwksProblem[] {
  const problems: JwksProblem[] = [];
  if (jwks.length === 0) {
    problems.push({ code: "no_keys", message: "The key set is empty: no token can be verified." });
  }
  const seen = new Map<string, number>();
  for (const jwk of jwks) {
    const kid = str(jwk.kid);
    const name = kid === null ? "a key without kid" : `kid "${kid}"`;
    if (kid === null) {
      problems.push({
        code: "missing_kid",
        message: "A key has no kid: tokens cannot name it, so verifiers must try every key.",
      });
    } else {
      seen.set(kid, (seen.get(kid) ?? 0) + 1);
    }
    const leaked = PRIVATE_MEMBERS.filter((member) => member in jwk);
    if (leaked.length > 0) {
      problems.push({
        code: "private_key",
        message: `${name} publishes private key material (${leaked.join(", ")}): anyone can sign tokens with it; revoke it now.`,
      });
    }
    if (jwk.kty === "oct") {
      problems.push({
        code: "symmetric_key",
        message: `${name} is a symmetric (oct) key: publishing it lets anyone sign tokens.`,
      });
    }
    if (jwk.kty === "RSA") {
      const bits = bitLength(jwk.n) ?? 0;
      if (bits < 2048) {
        problems.push({
          code: "weak_key",
          message: `${name} is RSA ${bits}: below 2048 bits (NIST SP 800-131A); meishi ignores it.`,
        });
      }
    }
    if (jwk.use === "enc") {
      problems.push({
        code: "use_enc",
        message: `${name} has use "enc": an encryption key, which verifiers ignore for signatures.`,
      });
    }
  }
  for (const [kid, count] of seen) {
    if (count > 1) {
      problems.push({
        code: "duplicate_kid",
        message: `kid "${kid}" appears ${count} times: a verifier cannot tell which key a token means.`,
      });
    }
  }
  return problems;
}

function transportProblem(url: string): JwksProblem[] {
  const parsed = new URL(url);
  if (parsed.protocol === "https:" || LOOPBACK.has(parsed.hostname)) return [];
  return [
    {
      code: "insecure_transport",
      message: `${url} is not https: anyone on the path can swap the keys.`,
    },
  ];
}

function isJwks(body: unknown): body is { keys: unknown[] } {
  return (
    typeof body === "object" && body !== null && Array.isArray((body as { keys?: unknown }).keys)
  );
}

function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
}

/** Follows the argument to a key set: a JWKS URL, a discovery document URL, or an issuer. */
async function resolveKeySet(argument: string, timeoutMs: number) {
  const problems: JwksProblem[] = [];
  const chain: string[] = [];
  let first: Fetched | undefined;
  try {
    first = await fetchJson(argument, timeoutMs);
  } catch (error) {
    if (argument.includes("/.well-known/")) throw error;
  }
  if (first !== undefined && first.status === 200 && isJwks(first.body)) {
    chain.push(first.url);
    return { jwks: first, problems, chain, discovery: undefined };
  }
  const isDiscoveryDocument =
    first !== undefined &&
    first.status === 200 &&
    typeof (first.body as { jwks_uri?: unknown })?.jwks_uri === "string";
  const discovery = isDiscoveryDocument
    ? first!
    : await fetchJson(discoveryUrl(argument), timeoutMs);
  chain.push(discovery.url);
  if (discovery.status !== 200) {
    throw new Error(
      `${discovery.url} answered ${discovery.status}: neither a JWKS nor an OpenID discovery document`,
    );
  }
  const document = discovery.body as { issuer?: unknown; jwks_uri?: unknown } | undefined;
  if (typeof document?.jwks_uri !== "string") {
    throw new Error(`${discovery.url} is not an OpenID discovery document (no jwks_uri)`);
  }
  const expectedIssuer = isDiscoveryDocument
    ? argument.replace(/\/\.well-known\/openid-configuration$/, "")
    : argument.replace(/\/$/, "");
  if (document.issuer !== expectedIssuer) {
    problems.push({
      code: "issuer_mismatch",
      message: `The discovery document's issuer is ${JSON.stringify(document.issuer ?? null)}, expected "${expectedIssuer}" (OpenID Connect Discovery §4.3): a verifier must refuse these keys.`,
    });
  }
  const jwks = await fetchJson(document.jwks_uri, timeoutMs);
  chain.push(jwks.url);
  if (jwks.status !== 200 || !isJwks(jwks.body)) {
    throw new Error(`${jwks.url} answered ${jwks.status} without a JWKS`);
  }
  return { jwks, problems, chain, discovery };
}

function cachingHeaders(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of CACHING_HEADERS) {
    const value = headers.get(name);
    if (value !== null) result[name] = value;
  }
  return result;
}

/**
 * Core's own snapshot of the key set (`{ uri, fetchedAt, expiresAt, jwks }`, usable keys only,
 * fresh for the server's Cache-Control max-age), so @meishi/lambda seeds from exactly what its
 * remote key source would have fetched.
 */
async function snapshotOf(jwksUri: string): Promise<JwksSnapshot> {
  const source = createRemoteKeySource({ jwksUri });
  await source.ready();
  const snapshot = source.snapshot();
  if (snapshot === undefined) throw new Error(`${jwksUri} gave no usable key`);
  return snapshot;
}

export const jwksCommand: Command = {
  name: "jwks",
  summary: "list the keys an issuer publishes, their caching headers and problems",
  help: `Usage: meishi jwks <jwks-uri | discovery-uri | issuer> [--json] [--snapshot] [--timeout 10s]

Fetches a JWKS (following OpenID discovery when given an issuer or a discovery
document URL) and prints each key (kid, kty, alg, use, RSA size or curve), the
caching headers (Cache-Control, Expires, Age, ETag, Last-Modified, Date) and
problems: duplicate kids, keys without kid, RSA under 2048 bits, use "enc", symmetric
or private keys, an empty set, plain http, no Cache-Control, and a discovery
document whose issuer does not match.

Options:
  --snapshot           print a key snapshot { uri, fetchedAt, expiresAt, jwks } of
                       the usable keys, for @meishi/lambda's jwksSnapshot
                       (MEISHI_JWKS_SNAPSHOT) or core's jwksSnapshot option; refused
                       when the keys come with a blocking problem
  --timeout <dur>      per request, e.g. 5s (default 10s)
  --json               print { source, keys, caching, problems }
  --color / --no-color force colour on or off (never with NO_COLOR)
  -h, --help           this help

Exit status: 0 when no problem was found, 1 when one was (or the fetch failed), 2 usage error.

Example:
  meishi jwks https://auth.example.com
  meishi jwks https://auth.example.com/.well-known/jwks.json --snapshot > jwks-snapshot.json`,
  options: {
    snapshot: { type: "boolean" },
    timeout: { type: "string" },
  },
  async run(context: CommandContext): Promise<number> {
    const argument = context.positionals[0];
    if (argument === undefined)
      throw new UsageError("give a JWKS URL, a discovery URL or an issuer");
    try {
      new URL(argument);
    } catch {
      throw new UsageError(`${argument} is not a URL`);
    }
    const timeoutSec = parseDuration(stringFlag(context.flags, "timeout") ?? "10s");
    if (timeoutSec === undefined || timeoutSec <= 0)
      throw new UsageError("--timeout must be a duration such as 5s");
    const { out } = context;
    let resolved: Awaited<ReturnType<typeof resolveKeySet>>;
    try {
      resolved = await resolveKeySet(argument, timeoutSec * 1000);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (context.json) out.json({ error: "fetch_failed", message });
      else out.error(`Could not fetch keys: ${message}`);
      return 1;
    }
    const keys = (resolved.jwks.body as { keys: unknown[] }).keys.filter(
      (key): key is Record<string, unknown> => typeof key === "object" && key !== null,
    );
    const caching = cachingHeaders(resolved.jwks.headers);
    const problems = [
      ...resolved.problems,
      ...resolved.chain.flatMap(transportProblem),
      ...keyProblems(keys),
      ...(caching["cache-control"] === undefined
        ? [
            {
              code: "no_cache_control",
              message:
                "No Cache-Control: every client guesses how long to keep the keys (meishi: 10 min).",
            },
          ]
        : []),
    ];
    if (context.flags.snapshot === true) {
      const refused = problems.filter((problem) => SNAPSHOT_BLOCKERS.includes(problem.code));
      if (refused.length > 0) {
        out.error(`No snapshot: ${refused.map((problem) => problem.message).join(" ")}`);
        return 1;
      }
      out.line(JSON.stringify(await snapshotOf(resolved.jwks.url)));
      return 0;
    }
    const reports = keys.map(reportKey);
    if (context.json) {
      out.json({ source: resolved.chain, keys: reports, caching, problems });
      return problems.length === 0 ? 0 : 1;
    }
    out.line(`${out.paint("bold", "Keys")} from ${resolved.chain.join(" → ")}`);
    const rows = reports.map((key) => [
      key.kid ?? "(no kid)",
      key.kty ?? "?",
      key.alg ?? "-",
      key.use ?? "-",
      key.strength ?? "?",
    ]);
    const table = [["kid", "kty", "alg", "use", "size/curve"], ...rows];
    const widths = table[0]!.map((_, column) =>
      Math.max(...table.map((row) => row[column]!.length)),
    );
    for (const [index, row] of table.entries()) {
      const text = row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join("  ")
        .trimEnd();
      out.line(`  ${index === 0 ? out.paint("dim", text) : text}`);
    }
    out.line();
    out.line(out.paint("bold", "Caching"));
    if (Object.keys(caching).length === 0) out.line("  (no caching headers)");
    for (const [name, value] of Object.entries(caching)) out.line(`  ${name}: ${value}`);
    out.line();
    if (problems.length === 0) {
      out.line(out.paint("green", "No problems found."));
      return 0;
    }
    out.line(out.paint("bold", "Problems"));
    for (const problem of problems) {
      out.line(
        `  ${out.paint("red", "!")} ${problem.message} ${out.paint("dim", `(${problem.code})`)}`,
      );
    }
    return 1;
  },
};
