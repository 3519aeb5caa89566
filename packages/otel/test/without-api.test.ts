import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { INSTRUMENTATION_VERSION } from "../src/index.js";

const run = promisify(execFile);

// Runs in a child process where resolving @opentelemetry/api fails, as in an app that never
// installed it: the package must load, and work with providers passed in.
const BLOCK_API = `data:text/javascript,${encodeURIComponent(`
  import { register } from "node:module";
  import Module from "node:module";
  register("data:text/javascript," + encodeURIComponent(
    'export async function resolve(s, c, next) { if (s.startsWith("@opentelemetry/api")) throw new Error("not installed: " + s); return next(s, c); }'
  ));
  const original = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (request.startsWith("@opentelemetry/api")) throw Object.assign(new Error("not installed"), { code: "MODULE_NOT_FOUND" });
    return original.call(this, request, ...rest);
  };
`)}`;

const SCRIPT = `
  const { meishiTelemetry } = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
  const recorded = [];
  const instrument = (name) => ({ add: (v) => recorded.push(name), record: (v) => recorded.push(name) });
  const span = { end() { recorded.push("span"); }, setStatus() {} };
  const telemetry = meishiTelemetry({
    tracerProvider: { getTracer: () => ({ startSpan: () => span }) },
    meterProvider: { getMeter: () => ({ createCounter: instrument, createHistogram: instrument }) },
  });
  telemetry.onEvent({ type: "token_verified", issuer: "https://id.example.com", cached: false, durationMs: 1 });
  let refused = "";
  try { meishiTelemetry(); } catch (error) { refused = error.message; }
  console.log(JSON.stringify({ recorded, refused }));
`;

it("loads and records without @opentelemetry/api when providers are passed in", async () => {
  const { stdout } = await run(process.execPath, [
    "--import",
    BLOCK_API,
    "--input-type=module",
    "-e",
    SCRIPT,
  ]);
  expect(JSON.parse(stdout)).toEqual({
    recorded: ["meishi.verifications", "meishi.verification.duration", "span"],
    refused:
      "meishiTelemetry(): install @opentelemetry/api, or pass tracerProvider and meterProvider",
  });
});

it("names its instrumentation scope with the package's version", async () => {
  const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
  expect(INSTRUMENTATION_VERSION).toBe(manifest.version);
});
