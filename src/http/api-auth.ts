import { timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../core/errors.js';
import type { RouteHandler, RouteRequest } from '../core/http-route.js';

/** True when the request carries `Authorization: Bearer <token>` with exactly this token. */
export function hasApiToken(req: RouteRequest, token: string): boolean {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function requireApiToken(token: string, handler: RouteHandler): RouteHandler {
  return async (req) => {
    if (!hasApiToken(req, token)) throw new UnauthorizedError();
    return handler(req);
  };
}
