import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  BadInputError,
  ForbiddenError,
  HandoffError,
  NotFoundError,
  PayloadTooLargeError,
  asHandoffError,
} from '../core/errors.js';
import { newId } from '../core/ids.js';
import { isLoopback, type Route, type RouteRequest, type RouteResponse } from '../core/http-route.js';
import type { Logger } from '../core/logger.js';
import { isStoreTimeout, storeTimeoutMs } from '../store/redis.js';
import { checkBrowserRequest } from './browser-guard.js';
import { createRouter } from './router.js';

/** Default largest request body, bytes (1 MiB). */
export const defaultMaxBodyBytes = 1024 * 1024;

/**
 * The body, up to `limit` bytes. Past the limit it rejects at once but leaves the request
 * flowing (and so drained): destroying it would reset the connection under the 413.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new PayloadTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        done();
        reject(new PayloadTooLargeError(limit));
      }
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      done();
      reject(
        new HandoffError('The client went away before it sent the whole body.', { code: 'client_closed', status: 400 }),
      );
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** How long a refused upload is still read (and thrown away) after the 413 is sent, ms. */
const lingerMs = 5_000;
/** How much of a refused upload is read after the 413 before the connection is closed anyway. */
const lingerBytes = 16 * 1024 * 1024;

/**
 * The 413 as a client can read it: the whole answer (with `Connection: close`) is written
 * first, then the rest of the upload is read and discarded until the client stops sending,
 * and only then is the connection closed. Closing a socket that still has unread data makes
 * the kernel send a reset, which can destroy the answer before the client has read it
 * (what a 2 MB upload got before).
 */
function sendTooLarge(req: IncomingMessage, res: ServerResponse, reply: RouteResponse): void {
  const body = Buffer.from(JSON.stringify(reply.body));
  res.writeHead(reply.status, {
    'x-content-type-options': 'nosniff',
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(body.length),
    connection: 'close',
  });
  res.write(body);
  let discarded = 0;
  const close = () => {
    clearTimeout(timer);
    req.off('data', count);
    req.off('end', close);
    req.off('close', close);
    if (!res.writableEnded) res.end();
  };
  const count = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > lingerBytes) close();
  };
  const timer = setTimeout(close, lingerMs);
  if (req.complete) return close();
  req.on('data', count);
  req.once('end', close);
  req.once('close', close);
  req.resume();
}

function send(res: ServerResponse, reply: RouteResponse, requestId: string): void {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
    ...reply.headers,
  };
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

/**
 * The request's "client went away" signal, made only when a route asks for it (the long
 * polls): most requests never look, and an AbortController per request, aborted on every
 * response's 'close', cost a DOMException with its stack trace each time. It aborts when the
 * response closes before it finished (the client disconnected), never after a normal answer;
 * asked for after such a close, it comes already aborted.
 */
function clientGone(res: ServerResponse): () => AbortSignal {
  let controller: AbortController | undefined;
  let gone = false;
  res.once('close', () => {
    if (res.writableFinished) return;
    gone = true;
    controller?.abort();
  });
  return () => {
    if (!controller) {
      controller = new AbortController();
      if (gone) controller.abort();
    }
    return controller.signal;
  };
}

/**
 * The request target as a URL. Node's parser lets through absolute-form targets that WHATWG
 * URL refuses (`GET http://[ HTTP/1.1`): those come back undefined, to be answered with a 400.
 */
function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://bridge.invalid');
  } catch {
    return undefined;
  }
}

export function errorResponse(err: HandoffError): RouteResponse {
  const message =
    err.status >= 500 && err.code === 'internal_error'
      ? 'The bridge hit an unexpected error; see its logs.'
      : err.message;
  return {
    status: err.status,
    body: { error: { code: err.code, message, ...(err.details ?? {}) } },
    ...(err.retryAfterMs !== undefined
      ? { headers: { 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) } }
      : {}),
  };
}

/**
 * The bridge's one HTTP server. It reads a bounded body, finds the route, enforces
 * loopback-only routes, and turns every error into `{error:{code,message}}` with its status.
 */
export function createHttpServer(deps: {
  routes: readonly Route[];
  logger: Logger;
  /** The `Host` values browser routes accept (known once the server listens). */
  ownHosts?: () => ReadonlySet<string>;
}): Server {
  const match = createRouter(deps.routes);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = newId('request');
    const parsedUrl = requestUrl(req.url);
    const url = parsedUrl ?? new URL('/', 'http://bridge.invalid');
    const signal = clientGone(res);
    let reply: RouteResponse;
    try {
      if (!parsedUrl) throw new BadInputError('The request target is not a valid URL.', { code: 'bad_request_target' });
      const found = match(req.method ?? 'GET', url.pathname);
      if (found.kind === 'none')
        throw new NotFoundError(`Nothing at ${req.method} ${url.pathname.slice(0, 200)}.`, 'route_not_found');
      if (found.kind === 'wrong_method') {
        throw new HandoffError(`${req.method} is not allowed here; use ${found.allowed.join(' or ')}.`, {
          code: 'method_not_allowed',
          status: 405,
        });
      }
      const remoteAddress = req.socket.remoteAddress ?? '';
      if (found.route.loopbackOnly && !isLoopback(remoteAddress)) {
        throw new ForbiddenError('Local threads answer only clients on this machine.', 'loopback_only');
      }
      if (found.route.browser)
        checkBrowserRequest(
          { method: req.method ?? 'GET', headers: req.headers as Record<string, string | undefined> },
          deps.ownHosts?.() ?? new Set(),
        );
      const rawBody = await readBody(req, found.route.maxBodyBytes ?? defaultMaxBodyBytes);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers))
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      const routeReq: RouteRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        params: found.params,
        query: url.searchParams,
        headers,
        rawBody,
        remoteAddress,
        requestId,
        get signal() {
          return signal();
        },
      };
      reply = await found.route.handler(routeReq);
    } catch (err) {
      const e = isStoreTimeout(err)
        ? new HandoffError(
            `The bridge's store (Redis) did not answer within ${storeTimeoutMs} ms; try again shortly.`,
            {
              code: 'store_unavailable',
              status: 503,
              retryAfterMs: 5_000,
              cause: err,
            },
          )
        : asHandoffError(err);
      if (e.code === 'store_unavailable')
        deps.logger.warn('request failed: Redis did not answer in time', {
          method: req.method,
          path: url.pathname,
          requestId,
        });
      else if (e.status >= 500)
        deps.logger.error('request failed', { method: req.method, path: url.pathname, requestId, error: err });
      reply = errorResponse(e);
      if (e instanceof PayloadTooLargeError && !res.headersSent && !res.destroyed) {
        sendTooLarge(req, res, reply);
        deps.logger.debug('request', {
          method: req.method,
          path: url.pathname,
          status: reply.status,
          ms: Date.now() - started,
        });
        return;
      }
    }
    if (res.writableEnded || res.destroyed) return;
    send(res, reply, requestId);
    deps.logger.debug('request', {
      method: req.method,
      path: url.pathname,
      status: reply.status,
      requestId,
      ms: Date.now() - started,
    });
  };

  return createServer((req, res) => {
    // Node drops the promise a request listener returns: a rejection would be unhandled and
    // leave the client waiting, so it is logged and the connection closed.
    handle(req, res).catch((err: unknown) => {
      deps.logger.error('request handler failed', { method: req.method, error: err });
      res.destroy();
    });
  });
}
