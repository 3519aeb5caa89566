import { handleHarnessRequest } from "./harness-server.js";

declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(address: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown;
};

Deno.serve(
  {
    port: 0,
    hostname: "127.0.0.1",
    // The Node side reads the port from this line.
    onListen: ({ port }) => console.log(`listening ${port}`),
  },
  handleHarnessRequest,
);
