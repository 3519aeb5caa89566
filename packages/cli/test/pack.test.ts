// `npx @meishi/cli decode …` from what npm would publish: the packed tarball, run by npm exec
// in an empty directory. Until @meishi/core and @meishi/testing are on the registry, their
// tarballs are handed to npm exec alongside, which satisfies the CLI's dependencies.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ARTICLE_TOKEN } from "./run-cli.js";

const exec = promisify(execFile);
const packages = fileURLToPath(new URL("../..", import.meta.url));
let work: string;
const tarballs: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "meishi-cli-pack-"));
  for (const name of ["core", "testing", "cli"]) {
    await exec("pnpm", ["pack", "--pack-destination", work], { cwd: join(packages, name) });
  }
  for (const file of await readdir(work))
    if (file.endsWith(".tgz")) tarballs.push(join(work, file));
  expect(tarballs).toHaveLength(3);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

it("runs `meishi decode` from the packed tarball with npm exec", async () => {
  const { stdout } = await exec(
    "npm",
    [
      "exec",
      "--yes",
      "--loglevel=error",
      ...tarballs.flatMap((tarball) => ["--package", tarball]),
      "--",
      "meishi",
      "decode",
      ARTICLE_TOKEN,
      "--json",
    ],
    { cwd: work, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 4 * 1024 * 1024 },
  );
  expect(JSON.parse(stdout)).toMatchObject({
    verified: false,
    header: { alg: "RS256", typ: "JWT" },
    payload: { sub: "00123", role: "standard user" },
  });
}, 180_000);
