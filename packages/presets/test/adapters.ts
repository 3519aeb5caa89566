// Runs presets through the three adapters over real HTTP (supertest for Express and Koa,
// Fastify's inject), each app with the same two routes.
import { createServer, type Server } from "node:http";
import Router from "@koa/router";
import type {
  ClaimExpectation,
  ClaimPath,
  Identity,
  MeishiEvent,
  RefusalDetails,
  RejectReason,
  VerifierOptions,
} from "@meishi/core";
import * as expressAdapter from "@meishi/express";
import meishi, { type AuthHook, type GuardHook } from "@meishi/fastify";
import * as koaAdapter from "@meishi/koa";
import express from "express";
import Fastify from "fastify";
import Koa from "koa";
import request from "supertest";

/** What `/guarded` requires on top of a valid token. */
export interface Guards {
  role?: string;
  scope?: string;
  claims?: readonly (readonly [ClaimPath, ClaimExpectation])[];
}

export interface Reply {
  status: number;
  wwwAuthenticate: string | undefined;
  body: unknown;
}

/** A refusal as the app's verifier reported it: the reason and checks never sent to clients. */
export interface Refusal {
  reason: RejectReason;
  details: RefusalDetails | undefined;
}

export interface App {
  readonly adapter: string;
  /** Every refusal this app's verifier reported, oldest first. */
  readonly refusals: readonly Refusal[];
  get(path: "/me" | "/guarded", token?: string): Promise<Reply>;
  close(): Promise<void>;
}

export const ADAPTERS = ["express", "koa", "fastify"] as const;
export type AdapterName = (typeof ADAPTERS)[number];

function summary(identity: Identity | null | undefined) {
  if (identity === null || identity === undefined) return { auth: null };
  return {
    auth: {
      sub: identity.sub,
      issuer: identity.issuer,
      roles: [...identity.roles],
      scopes: [...identity.scopes],
    },
  };
}

function headersFor(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

async function overSocket(
  adapter: AdapterName,
  server: Server,
  refusals: readonly Refusal[],
): Promise<App> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    adapter,
    refusals,
    async get(path, token) {
      const res = await request(server).get(path).set(headersFor(token));
      return {
        status: res.status,
        wwwAuthenticate: res.headers["www-authenticate"],
        body: res.body,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The options with an `onEvent` that also records refusals (the user's own listener still runs). */
function recording(options: VerifierOptions): { options: VerifierOptions; refusals: Refusal[] } {
  const refusals: Refusal[] = [];
  const listener = options.onEvent;
  const onEvent = (event: MeishiEvent) => {
    if (event.type === "token_rejected") {
      const { details } = event.error as { details?: RefusalDetails };
      refusals.push({ reason: event.reason, details });
    }
    listener?.(event);
  };
  return { options: { ...options, onEvent }, refusals };
}

async function startExpress(given: VerifierOptions, guards: Guards): Promise<App> {
  const { options, refusals } = recording(given);
  const { jwtAuth, requireClaim, requireRole, requireScope, authErrorHandler } = expressAdapter;
  const app = express();
  const checks: express.RequestHandler[] = [];
  if (guards.role !== undefined) checks.push(requireRole(guards.role));
  if (guards.scope !== undefined) checks.push(requireScope(guards.scope));
  for (const [path, expected] of guards.claims ?? []) checks.push(requireClaim(path, expected));
  const auth = jwtAuth(options);
  app.get("/me", auth, (req, res) => void res.json(summary(req.auth)));
  app.get("/guarded", auth, ...checks, (req, res) => void res.json(summary(req.auth)));
  app.use(authErrorHandler());
  return overSocket("express", createServer(app), refusals);
}

async function startKoa(given: VerifierOptions, guards: Guards): Promise<App> {
  const { options, refusals } = recording(given);
  const { jwtAuth, requireClaim, requireRole, requireScope, authErrorHandler } = koaAdapter;
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  const checks: Koa.Middleware[] = [];
  if (guards.role !== undefined) checks.push(requireRole(guards.role));
  if (guards.scope !== undefined) checks.push(requireScope(guards.scope));
  for (const [path, expected] of guards.claims ?? []) checks.push(requireClaim(path, expected));
  const auth = jwtAuth(options);
  router.get("/me", auth, (ctx) => {
    ctx.body = summary(ctx.state.auth);
  });
  router.get("/guarded", auth, ...checks, (ctx) => {
    ctx.body = summary(ctx.state.auth);
  });
  app.use(authErrorHandler());
  app.use(router.routes());
  return overSocket("koa", createServer(app.callback()), refusals);
}

async function startFastify(given: VerifierOptions, guards: Guards): Promise<App> {
  const { options, refusals } = recording(given);
  const app = Fastify();
  await app.register(meishi, options);
  const checks: (AuthHook | GuardHook)[] = [app.authenticate];
  if (guards.role !== undefined) checks.push(app.requireRole(guards.role));
  if (guards.scope !== undefined) checks.push(app.requireScope(guards.scope));
  for (const [path, expected] of guards.claims ?? []) checks.push(app.requireClaim(path, expected));
  app.get("/me", { onRequest: app.authenticate }, async (req) => summary(req.auth));
  app.get("/guarded", { onRequest: checks }, async (req) => summary(req.auth));
  await app.ready();
  return {
    adapter: "fastify",
    refusals,
    async get(path, token) {
      const res = await app.inject({ method: "GET", url: path, headers: headersFor(token) });
      const header = res.headers["www-authenticate"];
      return {
        status: res.statusCode,
        wwwAuthenticate: typeof header === "string" ? header : undefined,
        body: res.body === "" ? undefined : res.json(),
      };
    },
    close: () => app.close(),
  };
}

/** Starts one app per adapter, each with its own verifier built from the same options. */
export async function startApps(options: VerifierOptions, guards: Guards = {}): Promise<App[]> {
  return Promise.all([
    startExpress(options, guards),
    startKoa(options, guards),
    startFastify(options, guards),
  ]);
}

export async function closeApps(apps: readonly App[]): Promise<void> {
  await Promise.all(apps.map((app) => app.close()));
}
