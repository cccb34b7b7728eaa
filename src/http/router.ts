import type { Route } from '../core/http-route.js';

interface Compiled {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: 'wrong_method'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

/** Matches `/v1/handoffs/:id`-style patterns; segments are URI-decoded. */
export function createRouter(routes: readonly Route[]): (method: string, path: string) => RouteMatch {
  const compiled: Compiled[] = routes.map((route) => {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    return { route, names, pattern: new RegExp(`^${source}/?$`) };
  });

  return (method, path) => {
    const allowed: string[] = [];
    for (const c of compiled) {
      const match = c.pattern.exec(path);
      if (!match) continue;
      if (c.route.method !== method) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      let ok = true;
      c.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(match[i + 1]!);
        } catch {
          ok = false;
        }
      });
      if (ok) return { kind: 'found', route: c.route, params };
    }
    return allowed.length ? { kind: 'wrong_method', allowed } : { kind: 'none' };
  };
}
