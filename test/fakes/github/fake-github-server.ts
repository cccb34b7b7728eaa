import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGithubAuth, generateAppKey, type Caller } from './fake-github-auth.js';
import { FakeGithubState } from './fake-github-state.js';
import { handleRest, type Reply } from './fake-github-routes.js';

/**
 * An in-process GitHub REST + GraphQL server for the real Octokit to talk to (base URL without
 * /api/v3, so GraphQL is at `${url}/graphql`). It authenticates tokens, installation tokens and
 * App JWTs, keeps a primary rate limit per caller (a 304 to a conditional request costs
 * nothing, as on GitHub), answers ETags, and can be told to fail the next matching requests
 * (a secondary rate limit, a 403…). Every request is recorded for counting.
 */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly status: number;
  readonly caller: Caller['kind'];
  readonly conditional: boolean;
  /** When the request arrived, epoch ms. */
  readonly at: number;
}

export interface InjectedFailure {
  readonly method: string;
  readonly path: RegExp;
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly message: string;
  /** How many matching requests fail; default 1. */
  times?: number;
}

export interface FakeGithub {
  readonly url: string;
  readonly state: FakeGithubState;
  readonly auth: FakeGithubAuth;
  readonly requests: RecordedRequest[];
  /** Remaining primary rate limit per caller identity (default 5000 each). */
  readonly remaining: Map<string, number>;
  /** May the bridge delete other people's comments? (false: 403, like a token without write). */
  canDelete: boolean;
  /** May it minimize them through GraphQL? */
  canMinimize: boolean;
  failNext(failure: InjectedFailure): void;
  /** Sets up an App: returns its private key (PEM) for GITHUB_APP_PRIVATE_KEY. */
  enableApp(appId: number): string;
  count(filter: (r: RecordedRequest) => boolean): number;
  close(): Promise<void>;
}

export const rateLimit = 5_000;

function send(res: ServerResponse, reply: Reply, extra: Record<string, string>): void {
  const body = reply.body === undefined ? undefined : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...extra,
    ...(body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    ...reply.headers,
  });
  res.end(body);
}

export async function startFakeGithub(): Promise<FakeGithub> {
  const state = new FakeGithubState();
  const auth = new FakeGithubAuth();
  const requests: RecordedRequest[] = [];
  const failures: InjectedFailure[] = [];
  const remaining = new Map<string, number>();
  const resetAt = Math.floor(Date.now() / 1000) + 3_600;
  let url = '';

  const fake: FakeGithub = {
    get url() {
      return url;
    },
    state,
    auth,
    requests,
    remaining,
    canDelete: true,
    canMinimize: true,
    failNext: (failure) => failures.push({ ...failure, times: failure.times ?? 1 }),
    enableApp(appId) {
      const { privateKey, publicKey } = generateAppKey();
      auth.app = { id: appId, publicKey };
      state.user('handoff-bridge[bot]', 'Bot');
      return privateKey;
    },
    count: (filter) => requests.filter(filter).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', 'http://fake.invalid');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const method = req.method ?? 'GET';
    const caller = auth.identify(req.headers.authorization);
    const conditional = typeof req.headers['if-none-match'] === 'string';
    const identity = caller.kind === 'none' ? 'anonymous' : caller.identity;
    const left = remaining.get(identity) ?? rateLimit;
    const limitHeaders = (n: number) => ({
      'x-ratelimit-limit': String(rateLimit),
      'x-ratelimit-remaining': String(Math.max(0, n)),
      'x-ratelimit-reset': String(resetAt),
      'x-ratelimit-resource': parsed.pathname === '/graphql' ? 'graphql' : 'core',
    });
    const at = Date.now();
    const record = (status: number) =>
      requests.push({
        method,
        path: parsed.pathname,
        query: parsed.searchParams,
        status,
        caller: caller.kind,
        conditional,
        at,
      });

    const failure = failures.find((f) => f.method === method && f.path.test(parsed.pathname) && (f.times ?? 0) > 0);
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      record(failure.status);
      return send(
        res,
        {
          status: failure.status,
          body: { message: failure.message, documentation_url: 'https://docs.github.com/rest' },
          ...(failure.headers ? { headers: failure.headers } : {}),
        },
        limitHeaders(left),
      );
    }
    if (left <= 0 && caller.kind !== 'none') {
      record(403);
      return send(res, { status: 403, body: { message: 'API rate limit exceeded.' } }, limitHeaders(0));
    }

    let reply: Reply;
    try {
      reply = handleRest({
        state,
        auth,
        fake,
        caller,
        method,
        path: parsed.pathname,
        query: parsed.searchParams,
        body,
        baseUrl: url,
      });
    } catch (err) {
      reply = { status: 500, body: { message: (err as Error).message } };
    }
    // ETags on GET: an unchanged answer to a conditional request is a free 304.
    if (method === 'GET' && reply.status === 200) {
      const etag = `W/"${createHash('sha1').update(JSON.stringify(reply.body)).digest('hex')}"`;
      reply = { ...reply, headers: { ...reply.headers, etag } };
      if (req.headers['if-none-match'] === etag) {
        record(304);
        return send(res, { status: 304, headers: { etag } }, limitHeaders(left));
      }
    }
    const after = caller.kind === 'none' ? left : left - 1;
    if (caller.kind !== 'none') remaining.set(identity, after);
    record(reply.status);
    send(res, reply, limitHeaders(after));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { message: String(err) } }, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
