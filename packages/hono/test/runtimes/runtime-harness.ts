import type { VerifierOptions } from "@meishi/core";
import type { Harness } from "../../../../test/conformance/harness.js";
import { parseBody, pickHeaders } from "../../../../test/conformance/harness.js";
import { APP_HEADER } from "./harness-server.js";
import type { RunningRuntime } from "./launch.js";

/**
 * A conformance harness whose app runs inside another runtime: options go over as JSON, every
 * request is a real HTTP request to the runtime's own server.
 */
export function runtimeHarness(name: string, runtime: () => RunningRuntime): Harness {
  return {
    name,
    async start(options, { errorHandler = true } = {}) {
      const { origin } = runtime();
      const started = await fetch(`${origin}/__harness/start`, {
        method: "POST",
        body: JSON.stringify({ options: asJson(options), errorHandler }),
      });
      if (!started.ok) throw new Error(`${name}: start failed: ${await started.text()}`);
      const { id } = (await started.json()) as { id: string };
      return {
        async request(path, headers = {}) {
          const res = await fetch(`${origin}${path}`, {
            headers: { ...headers, [APP_HEADER]: id },
          });
          const received = pickHeaders((header) => res.headers.get(header) ?? undefined);
          return {
            status: res.status,
            headers: received,
            body: parseBody(await res.text(), received["content-type"]),
          };
        },
        async close() {
          await (await fetch(`${origin}/__harness/close/${id}`, { method: "POST" })).body?.cancel();
        },
      };
    },
  };
}

// Only data crosses into the runtime: a function in the options would vanish silently.
function asJson(options: VerifierOptions): unknown {
  return JSON.parse(
    JSON.stringify(options, (key, value: unknown) => {
      if (typeof value === "function") throw new Error(`option ${key} cannot cross to a runtime`);
      return value;
    }),
  );
}
