import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
    // Generous: CI shares two cores between key generation, servers and workers.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
