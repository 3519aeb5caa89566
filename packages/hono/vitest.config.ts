import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // types.test.ts holds compile-time assertions: tsc checks them as part of `vitest run`, so
    // a wrong type fails the package's tests, not only `pnpm typecheck`.
    typecheck: { enabled: true, include: ["test/types.test.ts"], tsconfig: "./tsconfig.json" },
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
    // Generous: CI shares two cores between key generation, servers and workers.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
