import { type Command, type CommandContext, readTokenArgument } from "./command.js";
import { cleanToken, inspectToken, type TokenInspection } from "./inspect-token.js";
import type { Printer } from "./output.js";

export const NOT_VERIFIED =
  "Decoding is not verifying: anyone can write a token like this one. Use `meishi verify` to check its signature and claims.";

function printInspection(out: Printer, inspection: TokenInspection): void {
  out.line(out.paint("yellow", NOT_VERIFIED));
  out.line();
  out.line(out.paint("bold", "Header"));
  out.line(JSON.stringify(inspection.header, null, 2));
  out.line();
  out.line(out.paint("bold", "Payload"));
  out.line(JSON.stringify(inspection.payload, null, 2));
  if (inspection.times.length > 0) {
    out.line();
    out.line(out.paint("bold", "Times"));
    for (const time of inspection.times) {
      out.line(`  ${time.claim}  ${time.date}  (${time.relative})`);
    }
  }
  if (inspection.dpopJkt !== undefined) {
    out.line();
    out.line(
      `DPoP-bound (RFC 9449): cnf.jkt = ${inspection.dpopJkt}. Whoever sends it must also send a DPoP proof signed by that key.`,
    );
  }
  out.line();
  if (inspection.warnings.length === 0) {
    out.line(out.paint("green", "No warnings."));
    return;
  }
  out.line(out.paint("bold", "Warnings"));
  for (const warning of inspection.warnings) {
    out.line(
      `  ${out.paint("red", "!")} ${warning.message} ${out.paint("dim", `(${warning.code})`)}`,
    );
  }
}

export const decodeCommand: Command = {
  name: "decode",
  summary: "show a token's header and payload (without verifying it)",
  help: `Usage: meishi decode [<token> | -] [--json] [--color | --no-color]

Prints a JWT's header and payload, its times as dates ("expires in 4 min",
"expired 2 h ago") and warnings: alg none, HMAC, no exp, a lifetime over a day,
a jku/x5u key URL or embedded jwk in the header, a placeholder signature.
Decoding is not verifying: use \`meishi verify\` for that.

The token comes from the argument, or from stdin when it is left out or "-".
A leading "Bearer " is ignored.

Options:
  --json          print { verified: false, header, payload, times, warnings, dpop }
  --color         colour even when stdout is not a terminal (never with NO_COLOR)
  --no-color      no colour
  -h, --help      this help

Exit status: 0 when the text decodes as a JWT, 1 when it does not, 2 for a usage error.

Example:
  meishi decode eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDEyMyJ9.SignatureHere
  pbpaste | meishi decode --json`,
  options: {},
  async run(context: CommandContext): Promise<number> {
    const token = cleanToken(await readTokenArgument(context));
    let inspection: TokenInspection;
    try {
      inspection = inspectToken(token);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      if (context.json) context.out.json({ error: "not_a_jwt", message: why });
      else context.out.error(`Not a JWT: ${why}`);
      return 1;
    }
    if (context.json) {
      context.out.json({
        verified: false,
        header: inspection.header,
        payload: inspection.payload,
        times: inspection.times,
        warnings: inspection.warnings,
        dpop: inspection.dpopJkt === undefined ? null : { jkt: inspection.dpopJkt },
      });
    } else {
      printInspection(context.out, inspection);
    }
    return 0;
  },
};
