import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';

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
}

/** Far above any answer of the bridge's API; a larger one (a wrong HANDOFF_URL) is cut, not buffered. */
export const maxAnswerBytes = 8 * 1024 * 1024;

export type BridgeTransport = (url: URL, init: BridgeRequest) => Promise<BridgeResponse>;

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
    const { request, agent } = url.protocol === 'https:' ? await tls() : plain;
    return new Promise<BridgeResponse>((resolve, reject) => {
      const headers = {
        ...init.headers,
        ...(init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) }),
      };
      const req = request(url, { method: init.method, headers, signal: init.signal, agent }, (res: IncomingMessage) => {
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
      req.once('error', reject);
      req.end(init.body);
    });
  };
}
