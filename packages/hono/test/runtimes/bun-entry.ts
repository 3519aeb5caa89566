import { handleHarnessRequest } from "./harness-server.js";

declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (request: Request) => Promise<Response>;
  }): { port: number };
};

const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handleHarnessRequest });
// The Node side reads the port from this line.
console.log(`listening ${server.port}`);
