import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigurationError } from "@meishi/core";
import type { Command } from "./command.js";
import { decodeCommand } from "./decode.js";
import { jwksCommand } from "./jwks.js";
import { mintCommand } from "./mint.js";
import { type CliIo, colourEnabled, Printer, UsageError } from "./output.js";
import { verifyCommand } from "./verify.js";

const COMMANDS: readonly Command[] = [decodeCommand, verifyCommand, jwksCommand, mintCommand];

function version(): string {
  const manifest = JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url), "utf8"),
  ) as {
    version: string;
  };
  return manifest.version;
}

const MAIN_HELP = `Usage: meishi <command> [options]

Look inside JWTs and the key sets that sign them.

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(8)} ${command.summary}`).join("\n")}

Run \`meishi <command> --help\` for a command's options.
Every command takes --json for scripts; colour only on a terminal, never with NO_COLOR.

Options:
  -h, --help     this help
  -v, --version  the version`;

const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  color: { type: "boolean" },
} as const;

/**
 * Runs the `meishi` command line and resolves to its exit status: 0 success, 1 a refusal or
 * problem found, 2 a usage error.
 * @example
 * process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  const plain = new Printer(io, false);
  if (name === undefined || name === "--help" || name === "-h") {
    (name === undefined ? plain.error.bind(plain) : plain.line.bind(plain))(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    plain.line(version());
    return 0;
  }
  if (name === "help") {
    const target = COMMANDS.find((command) => command.name === rest[0]);
    plain.line(target?.help ?? MAIN_HELP);
    return target === undefined && rest[0] !== undefined ? 2 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    plain.error(`meishi: unknown command "${name}"\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...command.options, ...COMMON_OPTIONS },
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
    if (values.help === true) {
      plain.line(command.help);
      return 0;
    }
    const colour = colourEnabled(io, values.color as boolean | undefined);
    return await command.run({
      io,
      out: new Printer(io, colour),
      json: values.json === true,
      flags: values,
      positionals,
    });
  } catch (error) {
    // A bad flag (parseArgs' TypeError) or a bad option value: the user's input, not a crash.
    if (
      error instanceof UsageError ||
      error instanceof ConfigurationError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      plain.error(
        `meishi ${command.name}: ${(error as Error).message}\nRun \`meishi ${command.name} --help\` for usage.`,
      );
      return 2;
    }
    plain.error(
      `meishi ${command.name}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
}
