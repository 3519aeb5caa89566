import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("pnpm demo", () => {
  it("walks every step of the story and exits 0", async () => {
    const demo = new URL("../dist/demo.js", import.meta.url).pathname;
    const { stdout } = await run(process.execPath, [demo], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    for (const heading of [
      "1. omochi logs in",
      "2. The same card works at every API",
      "3. /admin is for role",
      "4. A forged card",
      "5. Key rotation",
      "6. Refresh",
      "7. Logout",
      "8. DPoP",
      "All steps behaved.",
    ]) {
      expect(stdout).toContain(heading);
    }
    expect(stdout).not.toMatch(/→ 5\d\d/);
  });
});
