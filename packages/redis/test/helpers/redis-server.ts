import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A real redis-server on loopback with persistence off, for tests. */
export interface TestRedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, as a crash: no goodbye to clients. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (persistence is off). */
  start(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

// A test run that dies half-way must not leave servers behind.
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function launch(port: number, dir: string, extra: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
      // Its own directory: a replica writes the RDB it receives from its primary to disk.
      "--dir",
      dir,
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "no",
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start on ${port}:\n${output}`));
    }, 10_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not be run (is it installed?): ${error.message}`));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners("data");
        child.stdout?.resume();
        resolve(child);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts `redis-server --save "" --appendonly no` on a free loopback port.
 * `extraArgs` are passed on (e.g. `["--replicaof", "127.0.0.1", "6379"]`).
 */
export async function startRedisServer(
  extraArgs: readonly string[] = [],
): Promise<TestRedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "meishi-redis-"));
  let child: ChildProcess | undefined = await launch(port, dir, extraArgs);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (child === undefined) return;
      const dying = child;
      child = undefined;
      dying.kill("SIGKILL");
      await exited(dying);
    },
    async start() {
      if (child !== undefined) return;
      child = await launch(port, dir, extraArgs);
    },
    async stop() {
      if (child !== undefined) {
        const stopping = child;
        child = undefined;
        stopping.kill("SIGTERM");
        await exited(stopping);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP proxy in front of Redis whose link can be cut, as a network partition would. */
export interface CuttableLink {
  readonly url: string;
  /** Drops every connection and refuses new ones. */
  cut(): void;
  /**
   * Keeps every connection open but silently drops what Redis sends back, as a half-open
   * connection behind a NAT or load balancer would.
   */
  stall(): void;
  /** Lets connections through again (a stalled connection is closed: its stream is broken). */
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableLink(targetPort: number): Promise<CuttableLink> {
  const sockets = new Set<Socket>();
  const broken = new Set<Socket>();
  let open = true;
  let stalled = false;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = createConnectionTo(targetPort);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      broken.delete(client);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (stalled) broken.add(client);
      else if (!broken.has(client)) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    stall() {
      stalled = true;
    },
    restore() {
      open = true;
      stalled = false;
      for (const socket of broken) socket.destroy();
      broken.clear();
    },
    async close() {
      open = false;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function createConnectionTo(port: number): Socket {
  return connect(port, "127.0.0.1");
}

/** A local Redis Cluster of `nodes` primaries (no replicas), persistence off. */
export interface TestRedisCluster {
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

export async function startRedisCluster(nodes = 3): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "meishi-redis-cluster-"));
  const servers: TestRedisServer[] = [];
  for (let i = 0; i < nodes; i += 1) {
    servers.push(
      await startRedisServer([
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${i}.conf`),
        "--dir",
        dir,
      ]),
    );
  }
  const create = spawn(
    "redis-cli",
    [
      "--cluster",
      "create",
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  create.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  create.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => create.once("exit", resolve));
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  if (code !== 0) {
    await stop();
    throw new Error(`redis-cli --cluster create failed:\n${output}`);
  }
  return { ports: servers.map((s) => s.port), stop };
}
