// Prints one closing line for the whole monorepo ("N passed, N failed") from the JSON results
// each package's vitest run writes, and fails when any package ran no test at all: a suite that
// silently stops running proves nothing.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const places = ["packages", "examples"].flatMap((dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir)).map((name) => join(root, dir, name))
    : [],
);
places.push(join(root, "test"), join(root, "bench"));

let passed = 0;
let failed = 0;
let skipped = 0;
const empty = [];
for (const place of places) {
  const file = join(place, "test-results.json");
  if (!existsSync(file)) continue;
  const results = JSON.parse(readFileSync(file, "utf8"));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  skipped += results.numPendingTests + (results.numTodoTests ?? 0);
  if (results.numTotalTests === 0) empty.push(place);
}
for (const place of empty) console.error(`no test ran in ${place}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || empty.length > 0 || passed === 0 ? 1 : 0);
