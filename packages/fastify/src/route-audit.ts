import type { FastifyInstance } from "fastify";

interface PrintedRoute {
  methods: string;
  path: string;
  onRequest: string;
}

/**
 * The routes (as `METHOD /path`) whose `onRequest` hooks do not include the named hook.
 *
 * Fastify 5 has no structured list of routes with their hooks; `printRoutes({ includeHooks })`
 * is the only view of every route in every scope with the hooks it will run, so its tree is
 * read here. A line this does not recognise is skipped, and a route whose hook list shows the
 * hook counts as protected.
 */
export function unprotectedRoutes(fastify: FastifyInstance, hookName: string): string[] {
  const text = fastify.printRoutes({ includeHooks: true, commonPrefix: false });
  const routes: PrintedRoute[] = [];
  const segments: string[] = [];
  for (const line of text.split("\n")) {
    const node = /^(.*?)[├└]── (.*) \(([^)]*)\)$/.exec(line);
    if (node !== null) {
      const depth = Math.round((node[1] ?? "").length / 4);
      segments.length = depth;
      segments[depth] = node[2] ?? "";
      routes.push({ methods: node[3] ?? "", path: segments.join(""), onRequest: "" });
      continue;
    }
    const last = routes.at(-1);
    if (last === undefined) continue;
    const hook = /• \(onRequest\) (.*)$/.exec(line);
    if (hook !== null) {
      last.onRequest += hook[1] ?? "";
      continue;
    }
    const sameNode = /^[│ ]*\S.* \(([^)]*)\)$/.exec(line);
    if (sameNode !== null)
      routes.push({ methods: sameNode[1] ?? "", path: last.path, onRequest: "" });
  }
  const open = new Set<string>();
  for (const route of routes) {
    if (route.methods === "-" || route.onRequest.includes(`"${hookName}()"`)) continue;
    for (const method of route.methods.split(", ")) {
      // Fastify adds HEAD for every GET, with the GET's hooks: naming the GET is enough.
      if (method !== "HEAD") open.add(`${method} ${route.path}`);
    }
  }
  return [...open];
}
