import type { Caller, FakeGithubAuth } from './fake-github-auth.js';
import { FakeGithubState, isoSeconds, type FakeRepo } from './fake-github-state.js';

/**
 * The REST and GraphQL endpoints the bridge uses, with GitHub's shapes and status codes.
 */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

interface Context {
  readonly state: FakeGithubState;
  readonly auth: FakeGithubAuth;
  readonly fake: { canDelete: boolean; canMinimize: boolean };
  readonly caller: Caller;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly baseUrl: string;
}

const notFound: Reply = {
  status: 404,
  body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
};
const unauthorized: Reply = { status: 401, body: { message: 'Bad credentials' } };
const roles = ['read', 'triage', 'write', 'maintain', 'admin'];
const legacy: Record<string, string> = {
  read: 'read',
  triage: 'read',
  write: 'write',
  maintain: 'write',
  admin: 'admin',
};

/** The bridge's login: the token's user, or the App's bot. */
function actor(ctx: Context): { login: string; viaAppId?: number } {
  if (ctx.caller.kind === 'token') return { login: ctx.caller.login };
  return { login: 'handoff-bridge[bot]', viaAppId: ctx.auth.app?.id ?? 0 };
}

function repoAccess(ctx: Context, repo: FakeRepo | undefined): Reply | undefined {
  if (!repo) return notFound;
  if (ctx.caller.kind === 'installation' && ctx.caller.installationId !== repo.installationId) return notFound;
  return undefined;
}

function listRepoComments(ctx: Context, repo: FakeRepo): Reply {
  const key = `${repo.owner}/${repo.name}`.toLowerCase();
  const since = ctx.query.get('since');
  const sinceMs = since ? Date.parse(since) : 0;
  const perPage = Math.min(100, Number(ctx.query.get('per_page') ?? 30));
  const page = Math.max(1, Number(ctx.query.get('page') ?? 1));
  const byUpdated = ctx.query.get('sort') === 'updated';
  const all = [...ctx.state.comments.values()]
    .filter((c) => c.repoKey === key && !c.deleted && Date.parse(c.updatedAt) >= sinceMs)
    .sort((a, b) => (byUpdated ? Date.parse(a.updatedAt) - Date.parse(b.updatedAt) : 0) || a.id - b.id);
  if (ctx.query.get('direction') === 'desc') all.reverse();
  const slice = all.slice((page - 1) * perPage, page * perPage);
  const headers: Record<string, string> = {};
  if (page * perPage < all.length) {
    const next = new URLSearchParams(ctx.query);
    next.set('page', String(page + 1));
    headers.link = `<${ctx.baseUrl}${ctx.path}?${next}>; rel="next"`;
  }
  return { status: 200, body: slice.map((c) => FakeGithubState.json(c, ctx.baseUrl)), headers };
}

function graphql(ctx: Context): Reply {
  const query = String(ctx.body.query ?? '');
  const variables = (ctx.body.variables ?? {}) as Record<string, unknown>;
  if (!query.includes('minimizeComment'))
    return { status: 200, body: { errors: [{ message: 'unsupported by the fake' }] } };
  const comment = [...ctx.state.comments.values()].find((c) => c.nodeId === variables.id && !c.deleted);
  if (!comment)
    return {
      status: 200,
      body: {
        data: { minimizeComment: null },
        errors: [
          { type: 'NOT_FOUND', message: `Could not resolve to a node with the global id of '${String(variables.id)}'` },
        ],
      },
    };
  if (!ctx.fake.canMinimize) {
    return {
      status: 200,
      body: {
        data: { minimizeComment: null },
        errors: [{ type: 'FORBIDDEN', message: 'Resource not accessible by integration' }],
      },
    };
  }
  comment.minimized = true;
  return { status: 200, body: { data: { minimizeComment: { minimizedComment: { isMinimized: true } } } } };
}

export function handleRest(ctx: Context): Reply {
  const { method, path, state } = ctx;
  const seg = path.split('/').filter(Boolean);
  const is = (m: string, pattern: string) => {
    const parts = pattern.split('/').filter(Boolean);
    return m === method && parts.length === seg.length && parts.every((p, i) => p.startsWith(':') || p === seg[i]);
  };

  if (is('POST', '/app/installations/:id/access_tokens')) {
    if (ctx.caller.kind !== 'app') return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
    const issued = ctx.auth.mintInstallationToken(Number(seg[2]));
    return {
      status: 201,
      body: {
        token: issued.token,
        expires_at: new Date(issued.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: { issues: 'write', metadata: 'read' },
        repository_selection: 'all',
      },
    };
  }
  if (is('GET', '/repos/:o/:r/installation')) {
    if (ctx.caller.kind !== 'app') return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
    const repo = state.repo(seg[1]!, seg[2]!);
    return repo ? { status: 200, body: { id: repo.installationId, app_id: ctx.auth.app?.id } } : notFound;
  }
  if (ctx.caller.kind === 'none' || ctx.caller.kind === 'app') return unauthorized;
  if (path === '/graphql' && method === 'POST') return graphql(ctx);

  if (is('GET', '/user')) {
    if (ctx.caller.kind !== 'token')
      return { status: 403, body: { message: 'Resource not accessible by integration' } };
    const user = state.user(ctx.caller.login);
    return { status: 200, body: { login: user.login, id: user.id, type: user.type } };
  }
  if (is('GET', '/users/:login')) {
    const user = state.users.get(seg[1]!.toLowerCase());
    return user ? { status: 200, body: { login: user.login, id: user.id, type: user.type } } : notFound;
  }

  if (seg[0] !== 'repos' || seg.length < 3) return notFound;
  const repo = state.repo(seg[1]!, seg[2]!);
  const denied = repoAccess(ctx, repo);
  if (denied) return denied;
  const r = repo!;
  const key = `${r.owner}/${r.name}`.toLowerCase();

  if (is('GET', '/repos/:o/:r')) {
    return {
      status: 200,
      body: {
        id: 1,
        name: r.name,
        full_name: `${r.owner}/${r.name}`,
        private: r.private,
        visibility: r.visibility,
        owner: { login: r.owner },
      },
    };
  }
  if (is('GET', '/repos/:o/:r/collaborators/:login/permission')) {
    const user = state.users.get(seg[4]!.toLowerCase());
    if (!user) return notFound;
    const role = r.collaborators.get(user.login.toLowerCase()) ?? (r.private ? undefined : 'read');
    if (!role) return { status: 200, body: { permission: 'none', role_name: 'none', user: { login: user.login } } };
    return {
      status: 200,
      body: {
        permission: legacy[role],
        role_name: role,
        user: {
          login: user.login,
          permissions: Object.fromEntries(roles.map((x) => [x, roles.indexOf(x) <= roles.indexOf(role)])),
        },
      },
    };
  }
  if (is('GET', '/repos/:o/:r/issues/comments')) return listRepoComments(ctx, r);
  if (seg[3] === 'issues' && seg[4] === 'comments' && seg[5]) {
    const comment = state.comments.get(Number(seg[5]));
    if (!comment || comment.deleted || comment.repoKey !== key) return notFound;
    if (is('GET', '/repos/:o/:r/issues/comments/:id'))
      return { status: 200, body: FakeGithubState.json(comment, ctx.baseUrl) };
    if (is('PATCH', '/repos/:o/:r/issues/comments/:id')) {
      // GitHub lets the author edit (and people with write access, which the bot never needs).
      if (comment.user.login !== actor(ctx).login)
        return { status: 403, body: { message: 'Resource not accessible by integration' } };
      if (typeof ctx.body.body !== 'string') return { status: 422, body: { message: 'Validation Failed' } };
      comment.body = ctx.body.body;
      comment.updatedAt = isoSeconds(Date.now());
      return { status: 200, body: FakeGithubState.json(comment, ctx.baseUrl) };
    }
    if (is('DELETE', '/repos/:o/:r/issues/comments/:id')) {
      const own = comment.user.login === actor(ctx).login;
      if (!own && !ctx.fake.canDelete)
        return { status: 403, body: { message: 'Must have admin rights to Repository.' } };
      comment.deleted = true;
      return { status: 204 };
    }
    if (is('POST', '/repos/:o/:r/issues/comments/:id/reactions')) {
      const content = String(ctx.body.content ?? '');
      if (!['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'].includes(content))
        return { status: 422, body: { message: 'Validation Failed' } };
      comment.reactions.push(content);
      return { status: 201, body: { id: comment.reactions.length, content, user: { login: actor(ctx).login } } };
    }
    return notFound;
  }
  if (is('GET', '/repos/:o/:r/issues/:n') && /^\d+$/.test(seg[4]!)) {
    const issue = Number(seg[4]);
    if (!r.issues.has(issue)) return notFound;
    // As GitHub answers it (trimmed): its web page on the server's own host, like the comments'.
    const htmlUrl = `https://github.example/${r.owner}/${r.name}/issues/${issue}`;
    return {
      status: 200,
      body: {
        id: issue,
        number: issue,
        state: 'open',
        title: `Issue ${issue}`,
        html_url: htmlUrl,
        url: `${ctx.baseUrl}/repos/${r.owner}/${r.name}/issues/${issue}`,
      },
    };
  }
  if (seg[3] === 'issues' && seg[5] === 'comments' && seg.length === 6) {
    const issue = Number(seg[4]);
    if (!r.issues.has(issue)) return notFound;
    if (method === 'GET')
      return { status: 200, body: state.thread(key, issue).map((c) => FakeGithubState.json(c, ctx.baseUrl)) };
    if (method === 'POST') {
      const who = actor(ctx);
      const comment = state.addComment(key, issue, who.login, String(ctx.body.body ?? ''), {
        ...(who.viaAppId !== undefined ? { viaAppId: who.viaAppId, type: 'Bot' as const } : {}),
      });
      return { status: 201, body: FakeGithubState.json(comment, ctx.baseUrl) };
    }
  }
  return notFound;
}
