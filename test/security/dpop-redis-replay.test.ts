import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import {
  createDpopClient,
  createTestIssuer,
  type DpopClient,
  type TestIssuer,
} from "@meishi/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// A DPoP proof captured at one API process must be refused by every other process: the replay
// store is shared through Redis (RFC 9449 §11.1). Real OS processes, a real redis-server.

const ORIGIN = "https://api.example.test";
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Starts a child and resolves with the first line it prints (a port, or redis's banner). */
function startChild(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<string> {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`${command} did not start:\n${output}`)),
      15_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] ?? "");
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
}

let issuer: TestIssuer;
let client: DpopClient;
let redisUrl: string;

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ["ES256"] });
  client = await createDpopClient();
  const port = await freePort();
  await startChild(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {},
    /(Ready to accept connections)/,
  );
  redisUrl = `redis://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const child of children) child.kill("SIGTERM");
  await issuer.close();
});

async function startApi(store: "redis" | "memory"): Promise<string> {
  const script = fileURLToPath(new URL("./fixtures/dpop-api.mjs", import.meta.url));
  const port = await startChild(
    process.execPath,
    [script],
    {
      JWKS_URI: issuer.jwksUri,
      ISSUER: issuer.issuer,
      AUDIENCE: issuer.audience as string,
      ORIGIN,
      REPLAY_STORE: store,
      REDIS_URL: redisUrl,
    },
    /^(\d+)\n/m,
  );
  return `http://127.0.0.1:${port}`;
}

async function call(base: string, token: string, proof: string) {
  const res = await fetch(`${base}/me`, {
    headers: { authorization: `DPoP ${token}`, dpop: proof },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("a DPoP proof replayed against another API process", () => {
  it("is refused when the processes share the Redis replay store", async () => {
    const [first, second] = await Promise.all([startApi("redis"), startApi("redis")]);
    const token = await issuer.sign({ sub: "holder", cnf: { jkt: client.jkt } });
    const proof = await client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
    const accepted = await call(first, token, proof);
    expect(accepted.status).toBe(200);
    const replayed = await call(second, token, proof);
    expect(replayed).toEqual({
      status: 401,
      body: { error: "invalid_dpop_proof", error_description: "The DPoP proof was already used" },
    });
    // Two different processes answered.
    const fresh = await call(
      second,
      token,
      await client.proof("GET", `${ORIGIN}/me`, { accessToken: token }),
    );
    expect(fresh.status).toBe(200);
    expect(fresh.body.pid).not.toBe(accepted.body.pid);
  });

  it("is accepted by a second process with only the in-memory store (why the shared one exists)", async () => {
    const [first, second] = await Promise.all([startApi("memory"), startApi("memory")]);
    const token = await issuer.sign({ sub: "holder", cnf: { jkt: client.jkt } });
    const proof = await client.proof("GET", `${ORIGIN}/me`, { accessToken: token });
    expect((await call(first, token, proof)).status).toBe(200);
    expect((await call(second, token, proof)).status).toBe(200);
    expect((await call(second, token, proof)).status).toBe(401);
  });
});
