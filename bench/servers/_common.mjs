// Shared by every bench server: read the issuer settings from the environment, report the
// listening port to the parent, and exit when the parent goes away.

/**
 * @typedef {object} BenchEnv
 * @property {number} port       TCP port to listen on (0 picks a free one).
 * @property {string} jwksUri    The test issuer's JWKS URL.
 * @property {string} issuer     Expected `iss`.
 * @property {string} audience   Expected `aud`.
 */

/** @returns {BenchEnv} */
export function benchEnv() {
  const { PORT = "0", JWKS_URI, ISSUER, AUDIENCE } = process.env;
  if (!JWKS_URI || !ISSUER || !AUDIENCE) {
    throw new Error("bench server needs JWKS_URI, ISSUER and AUDIENCE in the environment");
  }
  return { port: Number(PORT), jwksUri: JWKS_URI, issuer: ISSUER, audience: AUDIENCE };
}

/**
 * Tell the parent the server is listening ("ready <port>" on stdout and over IPC), and make
 * sure the process ends with its parent, whatever happens to the parent.
 * @param {number} port
 * @param {() => Promise<unknown> | unknown} close
 */
export function announce(port, close) {
  const stop = async () => {
    try {
      await close();
    } finally {
      process.exit(0);
    }
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  process.once("disconnect", stop);
  // The parent asks for this process's CPU time around a measured run, to report server CPU
  // µs per request: steadier than req/s on a shared machine, and blind to the load generator.
  process.on("message", (message) => {
    if (message && message.cpu === true) process.send?.({ cpu: process.cpuUsage() });
    // bench:own-cost profiles only the measured requests, not start-up and warm-up.
    if (message && typeof message.profile === "string") {
      profiler(message).then(
        (reply) => process.send?.({ profiled: reply }),
        (error) => process.send?.({ profiled: { error: String(error) } }),
      );
    }
  });
  console.log(`ready ${port}`);
  process.send?.({ ready: port });
}

/**
 * Listen a Node http.Server on 127.0.0.1 and resolve with its port.
 * @param {import("node:http").Server} server
 * @param {number} port
 * @returns {Promise<number>}
 */
export function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

/**
 * Close an http.Server including its keep-alive connections.
 * @param {import("node:http").Server} server
 * @returns {Promise<void>}
 */
export function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** @type {import("node:inspector").Session | undefined} */
let session;

/**
 * `{ profile: "start", intervalUs }` starts V8's sampling profiler in this process;
 * `{ profile: "stop", file }` stops it and writes the profile (a .cpuprofile) to `file`.
 */
async function profiler(message) {
  const { Session } = await import("node:inspector");
  const { writeFile } = await import("node:fs/promises");
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  if (message.profile === "start") {
    session = new Session();
    session.connect();
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: message.intervalUs ?? 1000 });
    await post("Profiler.start");
    return { started: true };
  }
  const { profile } = await post("Profiler.stop");
  session.disconnect();
  await writeFile(message.file, JSON.stringify(profile));
  return { file: message.file };
}
