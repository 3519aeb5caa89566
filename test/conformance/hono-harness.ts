import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Harness, parseBody, pickHeaders } from "./harness.js";
import { buildHonoApp } from "./hono-app.js";

/** Hono on Node through @hono/node-server, over a real socket. */
export const honoHarness: Harness = {
  name: "hono (node)",
  async start(options, startOptions = {}) {
    const app = buildHonoApp(options, startOptions);
    const { server, port } = await new Promise<{
      server: ReturnType<typeof serve>;
      port: number;
    }>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
        resolve({ server: started, port: (info as AddressInfo).port }),
      );
    });
    return {
      async request(path, headers = {}) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
        const received = pickHeaders((name) => res.headers.get(name) ?? undefined);
        return {
          status: res.status,
          headers: received,
          body: parseBody(await res.text(), received["content-type"]),
        };
      },
      close: () =>
        new Promise<void>((resolve) => {
          if ("closeAllConnections" in server) server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  },
};
