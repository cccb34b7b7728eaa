import { randomBytes } from 'node:crypto';

/**
 * The data behind the fake GitHub: users, repositories with collaborators and issues, issue
 * comments with reactions. Timestamps have GitHub's second precision.
 */
export type FakeRole = 'read' | 'triage' | 'write' | 'maintain' | 'admin';

export interface FakeUser {
  readonly login: string;
  readonly id: number;
  readonly type: 'User' | 'Bot';
}

export interface FakeRepo {
  readonly owner: string;
  readonly name: string;
  private: boolean;
  visibility: 'public' | 'private' | 'internal';
  readonly collaborators: Map<string, FakeRole>;
  readonly issues: Set<number>;
  readonly installationId: number;
}

export interface FakeComment {
  readonly id: number;
  readonly nodeId: string;
  /** Lower-case `owner/name`. */
  readonly repoKey: string;
  readonly issue: number;
  body: string;
  readonly user: FakeUser;
  readonly createdAt: string;
  updatedAt: string;
  minimized: boolean;
  deleted: boolean;
  /** App id when an App wrote it. */
  readonly viaAppId: number | undefined;
  readonly reactions: string[];
}

export const isoSeconds = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export class FakeGithubState {
  readonly users = new Map<string, FakeUser>();
  readonly repos = new Map<string, FakeRepo>();
  readonly comments = new Map<number, FakeComment>();
  private nextId = 1_000_000 + Math.floor(Math.random() * 1_000);

  user(login: string, type: 'User' | 'Bot' = 'User'): FakeUser {
    const key = login.toLowerCase();
    let user = this.users.get(key);
    if (!user) {
      user = { login, id: this.nextId++, type };
      this.users.set(key, user);
    }
    return user;
  }

  addRepo(
    fullName: string,
    options: {
      private?: boolean;
      visibility?: FakeRepo['visibility'];
      collaborators?: Record<string, FakeRole>;
      issues?: number[];
      installationId?: number;
    } = {},
  ): FakeRepo {
    const [owner, name] = fullName.split('/') as [string, string];
    const isPrivate = options.private ?? true;
    const repo: FakeRepo = {
      owner,
      name,
      private: isPrivate,
      visibility: options.visibility ?? (isPrivate ? 'private' : 'public'),
      collaborators: new Map(),
      issues: new Set(options.issues ?? [1]),
      installationId: options.installationId ?? 42,
    };
    for (const [login, role] of Object.entries(options.collaborators ?? {})) {
      this.user(login);
      repo.collaborators.set(login.toLowerCase(), role);
    }
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  repo(owner: string, name: string): FakeRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  addComment(
    repoKey: string,
    issue: number,
    login: string,
    body: string,
    options: { viaAppId?: number; type?: 'User' | 'Bot'; at?: number } = {},
  ): FakeComment {
    const id = this.nextId++;
    const at = isoSeconds(options.at ?? Date.now());
    const comment: FakeComment = {
      id,
      nodeId: `IC_kwDO${randomBytes(4).toString('hex')}${id}`,
      repoKey: repoKey.toLowerCase(),
      issue,
      body,
      user: this.user(login, options.type),
      createdAt: at,
      updatedAt: at,
      minimized: false,
      deleted: false,
      viaAppId: options.viaAppId,
      reactions: [],
    };
    this.comments.set(id, comment);
    return comment;
  }

  /** Live comments of one issue, oldest first. */
  thread(repoKey: string, issue: number): FakeComment[] {
    return [...this.comments.values()].filter(
      (c) => c.repoKey === repoKey.toLowerCase() && c.issue === issue && !c.deleted,
    );
  }

  /** A comment as the REST API shows it. */
  static json(comment: FakeComment, baseUrl: string): Record<string, unknown> {
    const [owner, name] = comment.repoKey.split('/');
    return {
      id: comment.id,
      node_id: comment.nodeId,
      url: `${baseUrl}/repos/${owner}/${name}/issues/comments/${comment.id}`,
      html_url: `https://github.example/${owner}/${name}/issues/${comment.issue}#issuecomment-${comment.id}`,
      issue_url: `${baseUrl}/repos/${owner}/${name}/issues/${comment.issue}`,
      body: comment.body,
      user: { login: comment.user.login, id: comment.user.id, type: comment.user.type },
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: 'NONE',
      performed_via_github_app:
        comment.viaAppId === undefined ? null : { id: comment.viaAppId, slug: 'handoff-bridge' },
    };
  }
}
