import { describe, expect, it } from "vitest";
import { ARTICLE_TOKEN, runCli } from "./run-cli.js";

const ESCAPE = "\u001b[";

describe("meishi", () => {
  it("prints the main help with --help and lists every command", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    for (const command of ["decode", "verify", "jwks", "mint"]) {
      expect(result.stdout).toContain(`  ${command} `);
    }
  });

  it("exits 2 with the help on stderr when no command is given", async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: meishi <command>");
  });

  it.each(["decode", "verify", "jwks", "mint"])("has --help for %s", async (command) => {
    const result = await runCli([command, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: meishi ${command} `));
    const viaHelp = await runCli(["help", command]);
    expect(viaHelp.stdout).toBe(result.stdout);
  });

  it("prints its version", async () => {
    const result = await runCli(["--version"]);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("exits 2 for an unknown command or flag", async () => {
    expect((await runCli(["frobnicate"])).code).toBe(2);
    const badFlag = await runCli(["decode", ARTICLE_TOKEN, "--frob"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("meishi decode --help");
  });

  it("writes no colour when stdout is not a terminal", async () => {
    const result = await runCli(["decode", ARTICLE_TOKEN]);
    expect(result.stdout).not.toContain(ESCAPE);
  });

  it("colours with --color", async () => {
    const result = await runCli(["decode", ARTICLE_TOKEN, "--color"]);
    expect(result.stdout).toContain(ESCAPE);
  });

  it("never colours with NO_COLOR, even with --color", async () => {
    const result = await runCli(["decode", ARTICLE_TOKEN, "--color"], { env: { NO_COLOR: "1" } });
    expect(result.stdout).not.toContain(ESCAPE);
  });
});
