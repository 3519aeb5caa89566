import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  type AuthRule,
  allScopes,
  anyRole,
  createVerifier,
  type Identity,
  isAuthError,
  type MeishiEvent,
  type VerifierOptions,
} from "@meishi/core";
import {
  type Command,
  type CommandContext,
  listFlag,
  readTokenArgument,
  stringFlag,
} from "./command.js";
import { explainRefusal } from "./explain.js";
import { cleanToken, inspectToken, type TokenInspection } from "./inspect-token.js";
import { UsageError } from "./output.js";
import { describeTime } from "./time.js";

function verifierOptions(context: CommandContext, onEvent: (event: MeishiEvent) => void) {
  const { flags } = context;
  const jwksUri = stringFlag(flags, "jwks");
  const issuer = stringFlag(flags, "issuer");
  const audience = listFlag(flags, "audience");
  const algorithms = listFlag(flags, "alg");
  for (const alg of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new UsageError(`--alg ${alg} is not an asymmetric JWS algorithm`);
    }
  }
  if (jwksUri === undefined && issuer === undefined) {
    throw new UsageError("give --jwks <uri> or --issuer <url> (discovery)");
  }
  const rolesClaim = stringFlag(flags, "roles-claim");
  const options: VerifierOptions = {
    ...(jwksUri === undefined ? {} : { jwksUri }),
    issuer: issuer ?? null,
    audience: audience.length === 0 ? null : audience,
    ...(algorithms.length === 0 ? {} : { algorithms: algorithms as AsymmetricAlgorithm[] }),
    ...(rolesClaim === undefined ? {} : { rolesClaim }),
    ...(flags["allow-insecure-jwks-uri"] === true ? { allowInsecureJwksUri: true } : {}),
    verifiedTokenCache: false,
    // The command explains a refusal itself; core's console diagnostics would say it twice.
    logger: false,
    onEvent,
  };
  const keysFrom =
    jwksUri ?? `${issuer!.replace(/\/$/, "")}/.well-known/openid-configuration (discovery)`;
  return { options, keysFrom, issuer, audience, algorithms };
}

function rulesOf(context: CommandContext): AuthRule[] {
  const roles = listFlag(context.flags, "role");
  const scopes = listFlag(context.flags, "scope");
  return [
    ...(roles.length > 0 ? [anyRole(...roles)] : []),
    ...(scopes.length > 0 ? [allScopes(...scopes)] : []),
  ];
}

function notChecked(issuer: string | undefined, audience: readonly string[]): string[] {
  const skipped: string[] = [];
  if (issuer === undefined) skipped.push("issuer (no --issuer)");
  if (audience.length === 0) skipped.push("audience (no --audience)");
  return skipped;
}

function dpopNote(inspection: TokenInspection | undefined): string | undefined {
  if (inspection?.dpopJkt === undefined) return undefined;
  return `DPoP-bound token (cnf.jkt = ${inspection.dpopJkt}): a resource server must also check the request's DPoP proof (RFC 9449); the token alone proves nothing.`;
}

export const verifyCommand: Command = {
  name: "verify",
  summary: "verify a token against a JWKS or an issuer, and explain a failure",
  help: `Usage: meishi verify [<token> | -] (--jwks <uri> | --issuer <url>) [options]

Verifies a JWT with @meishi/core: signature with the published keys, algorithm,
exp/nbf/iat, and issuer, audience, roles and scopes when you name them. A failure
is explained in one sentence naming the check, the expected and the actual value,
with core's reason code (token_expired, audience_mismatch, …).

Options:
  --jwks <uri>              the JWKS URL (https, or http on loopback)
  --issuer <url>            the expected iss; alone, the keys are found by OIDC discovery
  --audience <aud>          the expected aud (repeat for any of several)
  --role <role>             require one of these roles (repeatable)
  --roles-claim <path>      where roles live (default "role"; e.g. "realm_access.roles")
  --scope <scope>           require all of these scopes (repeatable)
  --alg <alg>               allow only these algorithms (repeatable; default all asymmetric)
  --allow-insecure-jwks-uri allow a plain-http JWKS off loopback
  --json                    print { valid, reason, explanation, … }
  --color / --no-color      force colour on or off (never with NO_COLOR)
  -h, --help                this help

Without --issuer or --audience those claims are not checked, and the output says so.
Exit status: 0 valid, 1 invalid or keys unavailable, 2 usage error.

Example:
  meishi verify "$TOKEN" --issuer https://auth.example.com --audience https://api.example.com --role "standard user"`,
  options: {
    jwks: { type: "string" },
    issuer: { type: "string" },
    audience: { type: "string", multiple: true },
    role: { type: "string", multiple: true },
    "roles-claim": { type: "string" },
    scope: { type: "string", multiple: true },
    alg: { type: "string", multiple: true },
    "allow-insecure-jwks-uri": { type: "boolean" },
  },
  async run(context: CommandContext): Promise<number> {
    const token = cleanToken(await readTokenArgument(context));
    const events: MeishiEvent[] = [];
    const settings = verifierOptions(context, (event) => events.push(event));
    const rules = rulesOf(context);
    const verifier = createVerifier(settings.options);
    const nowSec = Math.floor(Date.now() / 1000);
    let inspection: TokenInspection | undefined;
    try {
      inspection = inspectToken(token, nowSec);
    } catch {
      inspection = undefined;
    }
    const { out } = context;
    let identity: Identity | undefined;
    try {
      identity = await verifier.verify(token);
      verifier.authorize(identity, rules);
    } catch (error) {
      if (!isAuthError(error)) throw error;
      const explanation = explainRefusal({
        error,
        header: inspection?.header,
        payload: inspection?.payload,
        expected: {
          keysFrom: settings.keysFrom,
          issuer: settings.issuer,
          audience: settings.audience,
          roles: listFlag(context.flags, "role"),
          scopes: listFlag(context.flags, "scope"),
          algorithms: settings.algorithms.length > 0 ? settings.algorithms : ASYMMETRIC_ALGORITHMS,
        },
        events,
        granted:
          identity === undefined ? undefined : { roles: identity.roles, scopes: identity.scopes },
        nowSec,
      });
      if (context.json) {
        out.json({
          valid: false,
          reason: error.reason,
          code: error.code,
          explanation,
          details: error.details ?? null,
          dpop: inspection?.dpopJkt === undefined ? null : { jkt: inspection.dpopJkt },
        });
      } else {
        out.line(
          `${out.paint("red", "✗ Invalid.")} ${explanation} ${out.paint("dim", `(reason: ${error.reason})`)}`,
        );
        const note = dpopNote(inspection);
        if (note !== undefined) out.line(note);
      }
      return 1;
    }
    const skipped = notChecked(settings.issuer, settings.audience);
    if (context.json) {
      out.json({
        valid: true,
        sub: identity.sub ?? null,
        issuer: identity.issuer ?? null,
        roles: identity.roles,
        scopes: identity.scopes,
        expiresAt: identity.expiresAt.toISOString(),
        header: identity.header,
        claims: identity.claims,
        notChecked: skipped,
        dpop: inspection?.dpopJkt === undefined ? null : { jkt: inspection.dpopJkt },
      });
      return 0;
    }
    const exp = Math.floor(identity.expiresAt.getTime() / 1000);
    out.line(
      `${out.paint("green", "✓ Valid.")} Signed by key ${JSON.stringify(identity.header.kid ?? null)} (${String(identity.header.alg)}) from ${settings.keysFrom}; ${describeTime("exp", exp, nowSec)}.`,
    );
    out.line(`  sub     ${identity.sub ?? "(none)"}`);
    out.line(`  iss     ${identity.issuer ?? "(none)"}`);
    out.line(`  aud     ${JSON.stringify(identity.claims.aud ?? null)}`);
    out.line(`  roles   ${JSON.stringify(identity.roles)}`);
    out.line(`  scopes  ${JSON.stringify(identity.scopes)}`);
    if (skipped.length > 0) out.line(out.paint("yellow", `Not checked: ${skipped.join(", ")}.`));
    const note = dpopNote(inspection);
    if (note !== undefined) out.line(note);
    return 0;
  },
};
