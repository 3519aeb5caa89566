import { createTestIssuer, TEST_ALGORITHMS, type TestAlgorithm } from "@meishi/testing";
import { type Command, type CommandContext, listFlag, stringFlag } from "./command.js";
import { UsageError } from "./output.js";
import { describeTime, parseDuration } from "./time.js";

function parseClaim(text: string): [string, unknown] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`--claim ${text}: expected name=value`);
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    // JSON when it parses (numbers, booleans, arrays, objects), the plain text otherwise.
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return [text.slice(0, eq), value];
}

function claimsFrom(context: CommandContext): Record<string, unknown> {
  const claims: Record<string, unknown> = Object.fromEntries(
    listFlag(context.flags, "claim").map(parseClaim),
  );
  const sub = stringFlag(context.flags, "sub");
  if (sub !== undefined) claims.sub = sub;
  const roles = listFlag(context.flags, "role");
  if (roles.length > 0) claims.role = roles.length === 1 ? roles[0] : roles;
  const scopes = listFlag(context.flags, "scope");
  if (scopes.length > 0) claims.scope = scopes.join(" ");
  return claims;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export const mintCommand: Command = {
  name: "mint",
  summary: "mint a token for local development, with a throwaway key and a local JWKS",
  help: `Usage: meishi mint [--sub <sub>] [--role <role>]... [--scope <scope>]... [--claim name=value]... [options]

For local development only. Generates a throwaway key (@meishi/testing), serves
its JWKS and an OpenID discovery document on 127.0.0.1 while it runs, and prints
a token signed with it. Point your API at the printed JWKS URL and issuer, then
press Ctrl-C to stop: the key dies with the process.

Options:
  --sub <sub>          the sub claim (default "user-123")
  --role <role>        the role claim (repeat for an array)
  --scope <scope>      add to the space-separated scope claim (repeatable)
  --claim name=value   any claim; the value is JSON when it parses ("3", "true", '["a"]')
  --audience <aud>     the aud claim (default https://api.meishi.test)
  --issuer <url>       the iss claim and discovery issuer (default: the server URL)
  --expires-in <dur>   lifetime: 300, 90s, 5m, 2h, 1d (default 5m); an expired token
                       takes the = form: --expires-in=-1h
  --alg <alg>          signing algorithm (default RS256; ${TEST_ALGORITHMS.join(", ")})
  --port <port>        port of the JWKS server (default: a free one)
  --no-serve           print the token and exit without serving the JWKS
  --json               print one JSON line { token, jwksUri, issuer, audience, discoveryUri, expiresAt }
  --color / --no-color force colour on or off (never with NO_COLOR)
  -h, --help           this help

Example:
  meishi mint --sub alice --role "standard user" --scope orders:read --expires-in 15m`,
  options: {
    sub: { type: "string" },
    role: { type: "string", multiple: true },
    scope: { type: "string", multiple: true },
    claim: { type: "string", multiple: true },
    audience: { type: "string" },
    issuer: { type: "string" },
    "expires-in": { type: "string" },
    alg: { type: "string" },
    port: { type: "string" },
    serve: { type: "boolean" },
  },
  async run(context: CommandContext): Promise<number> {
    const { flags, out } = context;
    const alg = (stringFlag(flags, "alg") ?? "RS256") as TestAlgorithm;
    if (!TEST_ALGORITHMS.includes(alg))
      throw new UsageError(`--alg ${alg} is not one of ${TEST_ALGORITHMS.join(", ")}`);
    const lifetime = parseDuration(stringFlag(flags, "expires-in") ?? "5m");
    if (lifetime === undefined)
      throw new UsageError("--expires-in must be a duration such as 300, 90s, 5m, 2h or 1d");
    const port = Number(stringFlag(flags, "port") ?? "0");
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError("--port must be a port number");
    const claims = claimsFrom(context);
    const audience = stringFlag(flags, "audience");
    const iss = stringFlag(flags, "issuer");
    const issuer = await createTestIssuer({
      algorithms: [alg],
      port,
      ...(audience === undefined ? {} : { audience }),
      ...(iss === undefined ? {} : { issuer: iss }),
    });
    try {
      const token = await issuer.sign(claims, { expiresInSec: lifetime });
      const expiresAt = Math.floor(Date.now() / 1000) + lifetime;
      const serving = flags.serve !== false;
      if (context.json) {
        out.line(
          JSON.stringify({
            token,
            jwksUri: issuer.jwksUri,
            discoveryUri: issuer.discoveryUri,
            issuer: issuer.issuer,
            audience: issuer.audience,
            expiresAt: new Date(expiresAt * 1000).toISOString(),
            serving,
          }),
        );
      } else {
        out.line(
          out.paint(
            "bold",
            `Token (${alg}, ${describeTime("exp", expiresAt, Math.floor(Date.now() / 1000))}):`,
          ),
        );
        out.line(token);
        out.line();
        out.line(`  JWKS      ${issuer.jwksUri}`);
        out.line(`  issuer    ${issuer.issuer}`);
        out.line(`  audience  ${JSON.stringify(issuer.audience)}`);
        out.line();
        out.line(
          out.paint(
            "yellow",
            "A throwaway key for local development: never trust it in production.",
          ),
        );
        if (serving) {
          out.line(
            `Serving the JWKS until Ctrl-C. Try: meishi verify <token> --jwks ${issuer.jwksUri}`,
          );
        }
      }
      if (serving) await waitForSignal();
      return 0;
    } finally {
      await issuer.close();
    }
  },
};
