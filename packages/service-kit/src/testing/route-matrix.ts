/**
 * Helpers of the table-driven authorization matrix and route fuzzing (issue 15): list the routes
 * an Express app really mounts, compare them with a service's table, and the callers and answers
 * of the matrix. Each service keeps its own table in `test/support/routes.ts`.
 */

/** One mounted route: method (upper case, `*` for `.all()`) and full path pattern. */
export interface MountedRoute {
  method: string;
  path: string;
}

/** The callers of every row: the resource's owner, a logged-in stranger, no token, a revoked session, a deleted account. */
export const CALLERS = ['owner', 'stranger', 'anonymous', 'revoked', 'deleted'] as const;
/** One caller of the matrix. */
export type Caller = (typeof CALLERS)[number];

/** An expected answer: the status and, for errors, the error code. */
export interface Answer {
  status: number;
  code?: string;
}

/** What chat-service answers a revoked session's access token (the revocation list, issue 15). */
export const SESSION_REVOKED: Answer = { status: 401, code: 'session_revoked' };

/** A route key, `METHOD /path/:param`. */
export function routeKey(r: MountedRoute): string {
  return `${r.method} ${r.path}`;
}

interface LayerLike {
  route?: { path?: unknown; methods?: Record<string, boolean> };
  handle?: { stack?: unknown };
  rawPath?: unknown;
}

function joinPath(prefix: string, p: string): string {
  const joined = `${prefix}/${p}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

function pathsOf(raw: unknown, where: string): string[] {
  const list = Array.isArray(raw) ? (raw.flat(Infinity) as unknown[]) : [raw];
  return list.map((p) => {
    if (typeof p !== 'string')
      throw new Error(
        `${where}: a route path that is not a string (${String(p)}) cannot be listed; use string paths`,
      );
    return p;
  });
}

function walk(stack: readonly LayerLike[], prefix: string, out: MountedRoute[]): void {
  for (const layer of stack) {
    if (layer.route) {
      for (const p of pathsOf(layer.rawPath ?? layer.route.path, prefix)) {
        for (const m of Object.keys(layer.route.methods ?? {})) {
          out.push({ method: m === '_all' ? '*' : m.toUpperCase(), path: joinPath(prefix, p) });
        }
      }
    } else if (Array.isArray(layer.handle?.stack)) {
      // a mounted router: `use(path, router)` (path '/' when none was given)
      for (const p of pathsOf(layer.rawPath ?? '/', prefix))
        walk(layer.handle.stack as LayerLike[], joinPath(prefix, p), out);
    }
  }
}

/**
 * Lists every route an Express 5 app mounts at runtime, by walking its router stack (nested
 * routers included). Plain middleware is not a route and is not listed.
 * @param app the Express app (anything with a `router.stack`)
 * @returns the routes, in mount order, without duplicates
 */
export function listMountedRoutes(app: { router: unknown }): MountedRoute[] {
  const stack = (app.router as { stack?: unknown } | undefined)?.stack;
  if (!Array.isArray(stack)) throw new Error('not an Express 5 app: no router stack');
  const out: MountedRoute[] = [];
  walk(stack as LayerLike[], '', out);
  const seen = new Set<string>();
  return out.filter((r) => !seen.has(routeKey(r)) && (seen.add(routeKey(r)), true));
}

/**
 * Compares the mounted routes with a table.
 * @param mounted from {@link listMountedRoutes}
 * @param table the rows' method and path
 * @returns routes mounted but missing from the table, and rows naming a route not mounted
 */
export function compareWithTable(
  mounted: readonly MountedRoute[],
  table: readonly MountedRoute[],
): { unlisted: string[]; notMounted: string[] } {
  const rows = new Set(table.map(routeKey));
  const live = new Set(mounted.map(routeKey));
  return {
    unlisted: [...live].filter((k) => !rows.has(k)),
    notMounted: [...rows].filter((k) => !live.has(k)),
  };
}

/**
 * Fills a route pattern's `:params`.
 * @param pattern e.g. `/api/chat/conversations/:id`
 * @param params values by name (URI-encoded here)
 * @returns the path
 */
export function fillPath(pattern: string, params: Record<string, string | number>): string {
  return pattern.replace(/:(\w+)/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`no value for :${name} in ${pattern}`);
    return encodeURIComponent(String(v));
  });
}
