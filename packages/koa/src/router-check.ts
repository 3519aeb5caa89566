import { ConfigurationError } from "@meishi/core";

// The parts of an @koa/router Layer this check reads. @koa/router is not a dependency: the
// shapes are read defensively, and a router that does not look like this is left alone.
interface LayerLike {
  readonly methods?: unknown;
  readonly stack?: unknown;
  regexp?: unknown;
  readonly path?: unknown;
  readonly opts?: { readonly sensitive?: unknown };
}

// Every jwtAuth() and guard middleware this package built, with the user's call that built it.
const meishiMiddlewares = new WeakMap<object, string>();

/** Records a middleware so any meishi middleware on the same router can find it in a layer. */
export function registerMiddleware(middleware: object, caller: string): void {
  meishiMiddlewares.set(middleware, caller);
}

const verdicts = new WeakMap<object, ConfigurationError | null>();

/**
 * Refuses, on every request it sees, a router on which @koa/router mounted one of meishi's
 * middlewares with `router.use()` under a prefix (a `prefix` option or a nested router's mount
 * path) while the router's routes match case-insensitively. @koa/router 15 compiles such a `use`
 * layer as `new RegExp("^/admin(?:\/|$)")`, without the `i` flag its routes get from
 * `sensitive: false`, so `GET /ADMIN/users` runs the route without the middleware:
 * authentication or a guard is skipped silently.
 *
 * Only a request that runs some meishi middleware on that router can look (the case-mangled
 * request runs none), so the whole router's stack is inspected the first time any of them runs,
 * e.g. a route-level `jwtAuth()` elsewhere on the router. From then on it fails closed: the
 * layer is made to match any case, and every request through a meishi middleware on that router
 * is refused with the ConfigurationError (a 500, logged by Koa). The fix is one of the safe forms
 * in the README.
 */
export function refuseCaseBlindUseLayer(ctx: object): void {
  const router = (ctx as { router?: unknown }).router;
  if (typeof router !== "object" || router === null) return;
  let verdict = verdicts.get(router);
  if (verdict === undefined) {
    verdict = inspect(router);
    verdicts.set(router, verdict);
  }
  if (verdict !== null) throw verdict;
}

function inspect(router: object): ConfigurationError | null {
  const stack = (router as { stack?: unknown }).stack;
  if (!Array.isArray(stack)) return null;
  const layers = stack as LayerLike[];
  const routesIgnoreCase = layers.some(
    (layer) => isRoute(layer) && layer.regexp instanceof RegExp && layer.regexp.ignoreCase,
  );
  if (!routesIgnoreCase) return null;
  const blind = layers.filter(
    (layer) =>
      !isRoute(layer) &&
      Array.isArray(layer.stack) &&
      layer.stack.some((fn: unknown) => typeof fn === "function" && meishiMiddlewares.has(fn)) &&
      layer.regexp instanceof RegExp &&
      !layer.regexp.ignoreCase &&
      // `(?:\/|$)`, the prefix-less use layer, matches every path: case cannot matter.
      /[a-z]/i.test(layer.regexp.source.replace(/\\./g, "")),
  );
  const [first] = blind;
  if (first === undefined) return null;
  for (const layer of blind) {
    const regexp = layer.regexp as RegExp;
    layer.regexp = new RegExp(regexp.source, `${regexp.flags}i`);
  }
  const caller = (first.stack as unknown[])
    .map((fn) => (typeof fn === "function" ? meishiMiddlewares.get(fn) : undefined))
    .find((name) => name !== undefined);
  const prefix = String(first.path).replace(/\(\?:\\\/\|\$\)$/, "");
  return new ConfigurationError(
    `${caller} is mounted with router.use() under the prefix ${JSON.stringify(prefix)}, ` +
      "which @koa/router 15 matches case-sensitively while its routes match any case: " +
      `a request to ${JSON.stringify(prefix.toUpperCase())}/… would reach the routes without it. ` +
      "Put it on each route (router.get(path, jwtAuth(), handler)), or on the app before the router " +
      "(app.use(jwtAuth())), or give the router (and every router it is nested in) { sensitive: true }.",
  );
}

function isRoute(layer: LayerLike): boolean {
  return Array.isArray(layer.methods) && layer.methods.length > 0;
}
