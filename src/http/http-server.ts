import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ForbiddenError, HandoffError, NotFoundError, PayloadTooLargeError, asHandoffError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { isLoopback, type Route, type RouteRequest, type RouteResponse } from '../core/http-route.js';
import type { Logger } from '../core/logger.js';
import { createRouter } from './router.js';

/** Default largest request body, bytes (1 MiB). */
export const defaultMaxBodyBytes = 1024 * 1024;

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new PayloadTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: RouteResponse, requestId: string): void {
  const headers: Record<string, string> = { 'x-content-type-options': 'nosniff', 'x-request-id': requestId, ...reply.headers };
  let body: string | Buffer | undefined;
  if (reply.body === undefined) body = undefined;
  else if (typeof reply.body === 'string' || Buffer.isBuffer(reply.body)) body = reply.body;
  else {
    body = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(reply.status, headers);
  res.end(body);
}

export function errorResponse(err: HandoffError): RouteResponse {
  const message = err.status >= 500 && err.code === 'internal_error' ? 'The bridge hit an unexpected error; see its logs.' : err.message;
  return {
    status: err.status,
    body: { error: { code: err.code, message, ...(err.details ?? {}) } },
    ...(err.retryAfterMs !== undefined ? { headers: { 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) } } : {}),
  };
}

/**
 * The bridge's one HTTP server. It reads a bounded body, finds the route, enforces
 * loopback-only routes, and turns every error into `{error:{code,message}}` with its status.
 */
export function createHttpServer(deps: { routes: readonly Route[]; logger: Logger }): Server {
  const match = createRouter(deps.routes);

  return createServer(async (req, res) => {
    const started = Date.now();
    const requestId = newId('request');
    const url = new URL(req.url ?? '/', 'http://bridge.invalid');
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    let reply: RouteResponse;
    try {
      const found = match(req.method ?? 'GET', url.pathname);
      if (found.kind === 'none') throw new NotFoundError(`Nothing at ${req.method} ${url.pathname.slice(0, 200)}.`, 'route_not_found');
      if (found.kind === 'wrong_method') {
        throw new HandoffError(`${req.method} is not allowed here; use ${found.allowed.join(' or ')}.`, { code: 'method_not_allowed', status: 405 });
      }
      const remoteAddress = req.socket.remoteAddress ?? '';
      if (found.route.loopbackOnly && !isLoopback(remoteAddress)) {
        throw new ForbiddenError('Local threads answer only clients on this machine.', 'loopback_only');
      }
      const rawBody = await readBody(req, found.route.maxBodyBytes ?? defaultMaxBodyBytes);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      const routeReq: RouteRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        params: found.params,
        query: url.searchParams,
        headers,
        rawBody,
        remoteAddress,
        requestId,
        signal: abort.signal,
      };
      reply = await found.route.handler(routeReq);
    } catch (err) {
      const e = asHandoffError(err);
      if (e.status >= 500) deps.logger.error('request failed', { method: req.method, path: url.pathname, requestId, error: err });
      reply = errorResponse(e);
      if (e instanceof PayloadTooLargeError) res.setHeader('connection', 'close');
    }
    if (res.writableEnded || res.destroyed) return;
    send(res, reply, requestId);
    deps.logger.debug('request', { method: req.method, path: url.pathname, status: reply.status, requestId, ms: Date.now() - started });
  });
}
