import { styleText } from "node:util";

type Style = Parameters<typeof styleText>[0];

/** Where a command writes, and whether it may colour its output. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean | undefined };
  stderr: { write(text: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean | undefined };
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Colour only on a terminal, or when `--color` asks for it, and never with `NO_COLOR` set to a
 * non-empty value (no-color.org): a user who set it must not get escape codes in any case.
 */
export function colourEnabled(io: CliIo, flag: boolean | undefined): boolean {
  const noColor = io.env.NO_COLOR;
  if (noColor !== undefined && noColor !== "") return false;
  if (flag !== undefined) return flag;
  return io.stdout.isTTY === true;
}

/** Writes lines with optional colour. */
export class Printer {
  readonly #io: CliIo;
  readonly #colour: boolean;
  constructor(io: CliIo, colour: boolean) {
    this.#io = io;
    this.#colour = colour;
  }
  paint(style: Style, text: string): string {
    // The decision is ours (the --color flag, NO_COLOR), so styleText must not second-guess it
    // from process.stdout, which is not always the stream we write to.
    return this.#colour ? styleText(style, text, { validateStream: false }) : text;
  }
  line(text = ""): void {
    this.#io.stdout.write(`${text}\n`);
  }
  json(value: unknown): void {
    this.#io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
  error(text: string): void {
    this.#io.stderr.write(`${text}\n`);
  }
}

/** A command-line mistake: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  override get name(): string {
    return "UsageError";
  }
}
