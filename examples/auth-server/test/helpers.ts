import Database from "better-sqlite3";
import { afterAll, beforeAll, onTestFinished } from "vitest";
import {
  type AuthServer,
  type AuthServerConfig,
  createAuthServer,
  type TokenResponse,
} from "../src/index.js";

export interface Running {
  server: AuthServer;
  url: string;
}

/** Starts a server on a free port; it is closed when the test ends. */
export async function start(config: AuthServerConfig = {}): Promise<Running> {
  const server = createAuthServer({ port: 0, ...config });
  onTestFinished(() => server.close());
  const { url } = await server.listen();
  return { server, url };
}

/** One server for every test of the enclosing `describe` (tests that don't change its state). */
export function sharedServer(config: AuthServerConfig = {}): () => Running {
  let running: Running | undefined;
  beforeAll(async () => {
    const server = createAuthServer({ port: 0, ...config });
    const { url } = await server.listen();
    running = { server, url };
  });
  afterAll(() => running?.server.close());
  return () => {
    if (running === undefined) throw new Error("the shared server has not started");
    return running;
  };
}

/** A controllable clock, starting at the real time (so meishi's own checks still agree). */
export function fakeClock(): { now: () => number; advance(seconds: number): void } {
  let current = Date.now();
  return {
    now: () => current,
    advance(seconds) {
      current += seconds * 1000;
    },
  };
}

export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function login(
  url: string,
  username: string,
  password: string,
): Promise<TokenResponse> {
  const res = await postJson(`${url}/login`, { username, password });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenResponse;
}

export const omochi = { username: "omochi", password: "mochi-mochi" } as const;
export const admin = { username: "admin", password: "admin-pass" } as const;

/** The kids the server's database holds, read straight from the file (read-only). */
export function storedKids(server: AuthServer): string[] {
  const db = new Database(server.databasePath, { readonly: true });
  try {
    const rows = db.prepare("SELECT kid FROM signing_keys").all() as { kid: string }[];
    return rows.map((row) => row.kid);
  } finally {
    db.close();
  }
}
