import type { ParseArgsConfig } from "node:util";
import { type CliIo, type Printer, UsageError } from "./output.js";

/** Parsed flags of a command: strings, string lists and booleans. */
export type Flags = Record<string, string | string[] | boolean | undefined>;

/** What every command gets. */
export interface CommandContext {
  io: CliIo;
  out: Printer;
  json: boolean;
  flags: Flags;
  positionals: string[];
}

/** One `meishi` subcommand. */
export interface Command {
  name: string;
  summary: string;
  /** The `--help` text. */
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  run(context: CommandContext): Promise<number>;
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

export function listFlag(flags: Flags, name: string): string[] {
  const value = flags[name];
  return Array.isArray(value) ? value : [];
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    // A token is a few KiB; refusing megabytes keeps a mistaken pipe from eating memory.
    if (size > 1024 * 1024)
      throw new UsageError("stdin holds more than 1 MiB: that is not a token");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The token argument, or stdin when it is left out or given as `-`. */
export async function readTokenArgument(context: CommandContext): Promise<string> {
  const argument = context.positionals[0];
  if (argument !== undefined && argument !== "-") return argument;
  if (context.io.stdin.isTTY === true) {
    throw new UsageError("give a token as the argument, or pipe one in on stdin");
  }
  const text = (await readStdin(context.io.stdin)).trim();
  if (text === "") throw new UsageError("stdin was empty: give a token");
  return text;
}
