import { request as httpRequest, Agent as HttpAgent } from 'node:http';

/**
 * One HTTP exchange with the bridge, over node:http(s) rather than the global fetch: a `handoff`
 * command is a short process, and the first fetch() in a process loads Node's bundled undici
 * (15–30 ms on this machine, measured: more than the request itself); node:https (TLS) is
 * loaded only for an https bridge. Each client keeps its connections alive between calls (idle
 * sockets do not hold a finished command's process open).
 */
export interface BridgeResponse {
  readonly status: number;
  readonly text: string;
  header(name: string): string | undefined;
}

export interface BridgeRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
  /** Safe to send twice (a POST with an idempotency key); GET, HEAD, PUT and DELETE are anyway. */
  readonly idempotent?: boolean;
}

/** Far above any answer of the bridge's API; a larger one (a wrong HANDOFF_URL) is cut, not buffered. */
export const maxAnswerBytes = 8 * 1024 * 1024;

export type BridgeTransport = (url: URL, init: BridgeRequest) => Promise<BridgeResponse>;

/** Methods HTTP defines as safe to repeat. */
const idempotentMethods = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/**
 * A kept-alive connection the bridge closed while idle (its keep-alive timeout, 5 s) that this
 * side had not yet seen closed: the request written on it is answered by a reset, before any
 * byte of answer, and the bridge never read it. Node's own advice is to send it again; a
 * process whose event loop lags a few seconds (a loaded machine, a long synchronous step)
 * meets this at every pause longer than the timeout.
 */
interface StaleSocketError extends Error {
  staleSocket?: boolean;
}

/** A transport for one client: its own keep-alive agents. */
export function nodeHttpTransport(): BridgeTransport {
  const plain = { request: httpRequest, agent: new HttpAgent({ keepAlive: true }) };
  let secure: Promise<typeof plain> | undefined;
  const tls = () =>
    (secure ??= import('node:https').then((https) => ({
      request: https.request,
      agent: new https.Agent({ keepAlive: true }),
    })));
  return async (url, init) => {
    const transport = url.protocol === 'https:' ? await tls() : plain;
    try {
      return await exchange(transport, url, init, transport.agent);
    } catch (err) {
      const repeatable = init.idempotent === true || idempotentMethods.has(init.method.toUpperCase());
      if (!(err as StaleSocketError).staleSocket || !repeatable || init.signal.aborted) throw err;
      // Once more on a connection of its own: another idle one in the pool may be stale too.
      return exchange(transport, url, init, false);
    }
  };
}

function exchange(
  transport: { request: typeof httpRequest },
  url: URL,
  init: BridgeRequest,
  agent: HttpAgent | false,
): Promise<BridgeResponse> {
  return new Promise<BridgeResponse>((resolve, reject) => {
    const headers = {
      ...init.headers,
      ...(init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) }),
    };
    let answered = false;
    const req = transport.request(url, { method: init.method, headers, signal: init.signal, agent }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxAnswerBytes) {
          res.destroy();
          reject(new Error(`the answer exceeds ${maxAnswerBytes / 1024 / 1024} MiB`));
          return;
        }
        chunks.push(chunk);
      });
      res.once('error', reject);
      res.once('end', () => {
        const single = (name: string) => {
          const value = res.headers[name.toLowerCase()];
          return Array.isArray(value) ? value[0] : value;
        };
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), header: single });
      });
    });
    req.once('error', (err: NodeJS.ErrnoException & StaleSocketError) => {
      if (req.reusedSocket && !answered && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) err.staleSocket = true;
      reject(err);
    });
    req.end(init.body);
  });
}
