import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeLinearStore, type FakeUser } from './fake-linear-store.js';
import { matchesFilter } from './graphql-filter.js';

/**
 * An in-process Linear GraphQL API for the real LinearClient to talk to. The SDK sends no
 * operation name, so requests are routed on the top-level field of the document
 * (`commentCreate`, `issue`, `comments`, `users`, `viewer`…). Answers have the shapes of the
 * SDK's fragments. Linear's rules that matter to the bridge are kept: client-chosen comment
 * ids are unique, replies nest one level, only authors edit, only authors and admins delete.
 * Faults can be planned per field: a rate limit, a lost answer, a server error.
 */
export interface FakeLinearRequest {
  readonly field: string;
  readonly variables: Record<string, unknown>;
  readonly at: number;
}

export type FakeLinearFault =
  /** HTTP 400 with `extensions.code: RATELIMITED`, as Linear answers; Retry-After in seconds if given. */
  | { readonly kind: 'ratelimit'; readonly retryAfterS?: number; readonly resetInMs?: number }
  /** The request is carried out, then the connection is cut before the answer. */
  | { readonly kind: 'lose-response' }
  | { readonly kind: 'server-error' };

export interface FakeLinear {
  readonly url: string;
  readonly store: FakeLinearStore;
  /** The user the bridge's credential belongs to. */
  readonly viewer: FakeUser;
  readonly requests: FakeLinearRequest[];
  /** The next `times` requests for `field` meet `fault`. */
  failNext(field: string, fault: FakeLinearFault, times?: number): void;
  count(field: string): number;
  close(): Promise<void>;
}

class GraphQLFailure extends Error {
  constructor(
    readonly type: string,
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const notFound = (what: string) => new GraphQLFailure('invalid input', 'INPUT_ERROR', `Entity not found: ${what}`);
const uuidV4Layout = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The first field selected by the operation: `mutation createComment($input…) { commentCreate(`. */
export function topLevelField(query: string): string | undefined {
  return /^\s*(?:query|mutation)\b[^{(]*(?:\([^)]*\))?\s*\{\s*(\w+)/.exec(query)?.[1];
}

export interface FakeLinearOptions {
  /** The exact Authorization header the bridge must send (`lin_api_…`, or `Bearer …` for OAuth). */
  readonly auth: string;
  readonly viewer?: Partial<FakeUser> & { name?: string };
  /** What the viewer may do to other people's comments. Default: delete if admin, never edit. */
  readonly permissions?: { readonly deleteOthers?: boolean; readonly editOthers?: boolean };
}

export async function startFakeLinear(options: FakeLinearOptions): Promise<FakeLinear> {
  const store = new FakeLinearStore();
  const viewer = store.addUser({
    name: 'Handoff Bot',
    displayName: 'handoff',
    email: 'handoff-bot@example.com',
    ...options.viewer,
  });
  const deleteOthers = options.permissions?.deleteOthers ?? viewer.admin;
  const editOthers = options.permissions?.editOthers ?? false;
  const requests: FakeLinearRequest[] = [];
  const faults = new Map<string, FakeLinearFault[]>();
  let syncId = 1000;

  const connection = <T>(items: T[], shape: (t: T) => unknown, vars: Record<string, unknown>, typename: string) => {
    const first = typeof vars.first === 'number' ? vars.first : 50;
    const start = typeof vars.after === 'string' ? Number(vars.after) : 0;
    const page = items.slice(start, start + first);
    const end = start + page.length;
    return {
      __typename: typename,
      nodes: page.map(shape),
      pageInfo: {
        __typename: 'PageInfo',
        startCursor: String(start),
        endCursor: String(end),
        hasPreviousPage: start > 0,
        hasNextPage: end < items.length,
      },
    };
  };
  const commentPayload = (id: string) => ({
    __typename: 'CommentPayload',
    success: true,
    lastSyncId: ++syncId,
    comment: { id },
  });
  const userEntity = (u: FakeUser) => ({ id: u.id, name: u.name, displayName: u.displayName, email: u.email });

  const resolvers: Record<string, (vars: Record<string, unknown>) => unknown> = {
    viewer: () => store.userShape(viewer, viewer.id),
    user: (vars) => {
      const user = store.users.get(String(vars.id));
      if (!user) throw notFound('User');
      return store.userShape(user, viewer.id);
    },
    users: (vars) => {
      const found = [...store.users.values()].filter((u) => matchesFilter(userEntity(u), vars.filter));
      return connection(found, (u) => store.userShape(u, viewer.id), vars, 'UserConnection');
    },
    issue: (vars) => {
      const issue = store.findIssue(String(vars.id));
      if (!issue) throw notFound('Issue');
      return store.issueShape(issue);
    },
    comment: (vars) => {
      const comment = store.comments.get(String(vars.id));
      if (!comment) throw notFound('Comment');
      return store.commentShape(comment);
    },
    comments: (vars) => {
      const found = [...store.comments.values()]
        .filter((c) =>
          matchesFilter(
            {
              id: c.id,
              createdAt: new Date(c.createdAt).toISOString(),
              issue: { id: c.issueId },
              user: c.userId ? { id: c.userId } : null,
            },
            vars.filter,
          ),
        )
        .sort((a, b) => a.createdAt - b.createdAt);
      return connection(found, (c) => store.commentShape(c), vars, 'CommentConnection');
    },
    commentCreate: (vars) => {
      const input = (vars.input ?? {}) as { id?: string; issueId?: string; body?: string; parentId?: string };
      const issue = store.findIssue(String(input.issueId ?? ''));
      if (!issue) throw notFound('Issue');
      if (input.id !== undefined && !uuidV4Layout.test(input.id))
        throw new GraphQLFailure('invalid input', 'INPUT_ERROR', 'Argument Validation Error: id must be a UUID v4');
      if (input.id !== undefined && (store.comments.has(input.id) || store.deleted.has(input.id))) {
        throw new GraphQLFailure('invalid input', 'INPUT_ERROR', 'Entity with this id already exists');
      }
      if (input.parentId !== undefined) {
        const parent = store.comments.get(input.parentId);
        if (!parent || parent.issueId !== issue.id) throw notFound('Parent comment');
        if (parent.parentId)
          throw new GraphQLFailure('invalid input', 'INPUT_ERROR', 'Replies can only be made to top-level comments');
      }
      const comment = store.addComment({
        id: input.id ?? randomUUID(),
        issueId: issue.id,
        body: String(input.body ?? ''),
        userId: viewer.id,
        ...(input.parentId ? { parentId: input.parentId } : {}),
      });
      return commentPayload(comment.id);
    },
    commentUpdate: (vars) => {
      const comment = store.comments.get(String(vars.id));
      if (!comment) throw notFound('Comment');
      if (comment.userId !== viewer.id && !editOthers)
        throw new GraphQLFailure('forbidden', 'FORBIDDEN', 'You can only edit your own comments');
      comment.body = String((vars.input as { body?: string } | undefined)?.body ?? comment.body);
      comment.editedAt = comment.updatedAt = Date.now();
      return commentPayload(comment.id);
    },
    commentDelete: (vars) => {
      const comment = store.comments.get(String(vars.id));
      if (!comment) throw notFound('Comment');
      if (comment.userId !== viewer.id && !deleteOthers)
        throw new GraphQLFailure('forbidden', 'FORBIDDEN', 'Only the author or an admin can delete this comment');
      store.comments.delete(comment.id);
      store.deleted.add(comment.id);
      return { __typename: 'DeletePayload', success: true, entityId: comment.id, lastSyncId: ++syncId };
    },
    reactionCreate: (vars) => {
      const input = (vars.input ?? {}) as { commentId?: string; emoji?: string };
      const comment = store.comments.get(String(input.commentId));
      if (!comment) throw notFound('Comment');
      let reaction = comment.reactions.find((r) => r.userId === viewer.id && r.emoji === input.emoji);
      if (!reaction) {
        reaction = { id: randomUUID(), emoji: String(input.emoji), userId: viewer.id, createdAt: Date.now() };
        comment.reactions.push(reaction);
      }
      return {
        __typename: 'ReactionPayload',
        success: true,
        lastSyncId: ++syncId,
        reaction: store.reactionShape(comment, reaction),
      };
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const failure = (type: string, code: string, message: string) => ({
    errors: [{ message, extensions: { type, code, userError: true, userPresentableMessage: message } }],
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/graphql') return send(res, 404, { error: 'not found' });
    if (req.headers.authorization !== options.auth) {
      return send(
        res,
        400,
        failure('authentication error', 'AUTHENTICATION_ERROR', 'Authentication required, not authenticated'),
      );
    }
    const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      query: string;
      variables?: Record<string, unknown>;
    };
    const field = topLevelField(query) ?? '';
    const vars = variables ?? {};
    requests.push({ field, variables: vars, at: Date.now() });
    const fault = faults.get(field)?.shift();
    if (fault?.kind === 'ratelimit') {
      const headers: Record<string, string> = {
        'x-ratelimit-requests-limit': '1500',
        'x-ratelimit-requests-remaining': '0',
      };
      if (fault.retryAfterS !== undefined) headers['retry-after'] = String(fault.retryAfterS);
      if (fault.resetInMs !== undefined) headers['x-ratelimit-requests-reset'] = String(Date.now() + fault.resetInMs);
      return send(res, 400, failure('ratelimited', 'RATELIMITED', 'Rate limit exceeded'), headers);
    }
    if (fault?.kind === 'server-error')
      return send(res, 500, failure('internal error', 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    const resolver = resolvers[field];
    if (!resolver)
      return send(res, 400, {
        errors: [
          {
            message: `Cannot query field "${field}" on the fake Linear API`,
            extensions: { type: 'graphql error', code: 'GRAPHQL_VALIDATION_FAILED' },
          },
        ],
      });
    try {
      const data = { [field]: resolver(vars) };
      if (fault?.kind === 'lose-response') {
        res.socket?.destroy();
        return;
      }
      send(res, 200, { data });
    } catch (err) {
      if (err instanceof GraphQLFailure) return send(res, err.status, failure(err.type, err.code, err.message));
      send(res, 400, {
        errors: [
          { message: (err as Error).message, extensions: { type: 'graphql error', code: 'GRAPHQL_VALIDATION_FAILED' } },
        ],
      });
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { errors: [{ message: String(err) }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/graphql`,
    store,
    viewer,
    requests,
    failNext(field, fault, times = 1) {
      faults.set(field, [...(faults.get(field) ?? []), ...Array.from({ length: times }, () => fault)]);
    },
    count: (field) => requests.filter((r) => r.field === field).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
