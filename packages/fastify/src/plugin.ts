import "./augment.js";
import {
  type AdapterOptions,
  type AuthRule,
  authorizeRequest,
  ConfigurationError,
  createRequestAuthenticator,
  defineGuards,
  type RequestAuthOptions,
} from "@meishi/core";
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from "fastify";
import fp from "fastify-plugin";
import type { GuardHook } from "./augment.js";
import { unprotectedRoutes } from "./route-audit.js";

const CALLER = "register(meishi) from @meishi/fastify";
const registered = Symbol("@meishi/fastify registered");

/** Options only the Fastify plugin has. */
export interface FastifyAuthOptions extends RequestAuthOptions<FastifyRequest> {
  /**
   * Authenticate every route, with a per-route opt-out `config: { meishi: { public: true } }`.
   * Requests that match no route are authenticated too. Default `false`.
   */
  protectAllRoutes?: boolean;
}

/**
 * Options of the plugin: core's `VerifierOptions` plus `optional`, `getToken` and
 * `protectAllRoutes`, or a prebuilt `verifier` to share one key cache. A route's
 * `config.meishi.optional` overrides `optional`.
 */
export type MeishiPluginOptions = AdapterOptions<FastifyRequest> & {
  protectAllRoutes?: boolean;
};

const plugin: FastifyPluginAsync<MeishiPluginOptions> = async (fastify, options) => {
  // fastify-plugin hands us the caller's own instance: an own marker means this very scope
  // registered meishi already (a child scope inherits the parent's through its prototype).
  if (Object.hasOwn(fastify, registered)) {
    throw new ConfigurationError(
      `${CALLER}: the plugin is already registered in this scope. Register it once; to share ` +
        "one key cache between scopes pass { verifier } built with createVerifier().",
    );
  }
  Object.defineProperty(fastify, registered, { value: true });
  const auth = createRequestAuthenticator<FastifyRequest>(options, {
    caller: CALLER,
    adapterKeys: ["protectAllRoutes"],
  });

  // Marks a request this registration already authenticated (protectAllRoutes, then a route's
  // hook). Not `request.auth !== null`: in a scope created before this plugin, Fastify never
  // added the `auth` decoration, so it reads `undefined` and would pass as authenticated. A
  // decorated property rather than a WeakSet: an ephemeron entry per request cost more than the
  // rest of the hook on a cache hit. One symbol per registration, so two never share the mark.
  const authenticatedHere = Symbol("@meishi/fastify authenticated");
  type Marked = Record<typeof authenticatedHere, boolean | undefined>;

  /** Authenticates once per request; a verified-token cache hit completes synchronously. */
  function authenticateNow(
    request: FastifyRequest,
    reply: FastifyReply | undefined,
  ): Promise<void> | undefined {
    if ((request as unknown as Marked)[authenticatedHere] === true) return undefined;
    const result = auth.authenticate(
      request,
      {
        headers: request.headers,
        url: request.url,
        method: request.method,
        rawHeaders: request.raw.rawHeaders,
      },
      request.routeOptions.config?.meishi?.optional,
      // Refusal reasons go to Fastify's own log, with the request id.
      request.log,
      // DPoP-Nonce, when DPoP nonces are on.
      reply === undefined ? undefined : (name, value) => reply.header(name, value),
    );
    if (!(result instanceof Promise)) {
      (request as unknown as Marked)[authenticatedHere] = true;
      request.auth = result ?? null;
      return undefined;
    }
    return result.then((identity) => {
      (request as unknown as Marked)[authenticatedHere] = true;
      request.auth = identity ?? null;
    });
  }

  // Callback-style hooks, so a cache hit costs Fastify no promise: `done` is called at once.
  function hookFor(check: (request: FastifyRequest) => void): GuardHook {
    return function meishiHook(
      request: FastifyRequest,
      reply: FastifyReply,
      done: HookHandlerDoneFunction,
    ): void {
      let pending: Promise<void> | undefined;
      try {
        pending = authenticateNow(request, reply);
        if (pending === undefined) check(request);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (pending === undefined) {
        done();
        return;
      }
      pending.then(
        () => {
          try {
            check(request);
          } catch (error) {
            done(error as Error);
            return;
          }
          done();
        },
        (error: Error) => done(error),
      );
    };
  }

  const authenticateHook = hookFor(() => {});
  // A hook when Fastify calls it (with `done`, so a cache hit completes without a promise: an
  // async hook costs Fastify a promise and its ticks on every request), a promise when a
  // handler awaits it.
  function authenticate(request: FastifyRequest, reply?: FastifyReply): Promise<void>;
  function authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void;
  function authenticate(
    request: FastifyRequest,
    reply?: FastifyReply,
    done?: HookHandlerDoneFunction,
  ): Promise<void> | undefined {
    if (done !== undefined && reply !== undefined) {
      authenticateHook(request, reply, done);
      return undefined;
    }
    try {
      return authenticateNow(request, reply) ?? Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // Each guard authenticates first, so `{ onRequest: fastify.requireRole("admin") }` is enough.
  const guard = (rule: AuthRule): GuardHook =>
    hookFor((request) => authorizeRequest(request, request.auth, [rule], request.log));

  // A stable request shape: every request has `auth` from the start (Fastify's decorator rule).
  fastify.decorateRequest("auth", null);
  fastify.decorateRequest(authenticatedHere, false);
  fastify.decorate("authenticate", authenticate);
  const guards = defineGuards("@meishi/fastify", guard);
  fastify.decorate("requireRole", guards.requireRole);
  fastify.decorate("requireAllRoles", guards.requireAllRoles);
  fastify.decorate("requireScope", guards.requireScope);
  fastify.decorate("requireAnyScope", guards.requireAnyScope);
  fastify.decorate("requireClaim", guards.requireClaim);
  fastify.decorate("requireAcr", guards.requireAcr);
  fastify.decorate("requireAuthTime", guards.requireAuthTime);

  // RFC 9728: the metadata is public (clients read it before they have a token).
  const metadata = auth.verifier.resourceMetadata;
  for (const path of metadata?.paths ?? []) {
    fastify.get(path, { config: { meishi: { public: true } } }, async (request, reply) => {
      const answer = auth.metadataFor(request.method, request.url);
      if (answer === undefined) return reply.callNotFound();
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    });
  }

  if (options.protectAllRoutes === true) {
    fastify.addHook("onRequest", function meishiProtectAllRoutes(request, reply, done) {
      if (request.routeOptions.config?.meishi?.public === true) {
        done();
        return;
      }
      authenticateHook(request, reply, done);
    });
    // Fastify's hooks reach only the scope they were added in and its children: registered in
    // an encapsulated plugin, protectAllRoutes would leave the rest of the app open. No route may
    // stay open silently, so start-up fails naming them.
    fastify.addHook("onReady", async function meishiCheckAllRoutesProtected() {
      const open = unprotectedRoutes(fastify, "meishiProtectAllRoutes");
      if (open.length > 0) {
        throw new ConfigurationError(
          `${CALLER}: protectAllRoutes does not reach ${open.join(", ")}: ` +
            "they are outside the scope meishi was registered in. Register meishi on the root " +
            "instance (or in a fastify-plugin wrapped plugin), or protect those routes with " +
            "{ onRequest: fastify.authenticate } in their own scope.",
        );
      }
    });
  }
};

/**
 * The meishi Fastify plugin. Register it once; it decorates the instance with `authenticate`
 * and guard hooks, and every request with `auth`.
 *
 * @throws {ConfigurationError} at registration for a bad option.
 * @example
 * await fastify.register(meishi, { jwksUri, issuer: "https://auth.example.com", audience: "api" });
 * fastify.get("/orders", { onRequest: fastify.requireRole("standard user") }, (req) => req.auth?.sub);
 */
export const meishi: FastifyPluginAsync<MeishiPluginOptions> = fp(plugin, {
  name: "@meishi/fastify",
  fastify: "5.x",
});
