import { LinearClient, PaginationOrderBy, type Comment, type User } from '@linear/sdk';
import type { Clock } from '../../src/core/clock.js';
import type { LinearConfig } from './linear-config.js';
import { UpstreamError } from '../../src/core/errors.js';
import { isNotFound, linearError } from './linear-errors.js';

/**
 * The Linear calls the adapter makes, through the official LinearClient, as plain data. Every
 * call is bounded in time and every failure comes out as a HandoffError (linear-errors.ts).
 * The SDK sends no operation name: each request is one top-level field (`commentCreate`,
 * `issue`, `comments`, `users`…).
 */
export interface LinearIssueInfo {
  readonly id: string;
  /** `ENG-123`. */
  readonly identifier: string;
  readonly assigneeId: string | undefined;
  readonly creatorId: string | undefined;
  /** The issue's web page. */
  readonly url: string;
}

export interface LinearUserInfo {
  readonly id: string;
  /** What Linear shows: the display name, else the full name. */
  readonly name: string;
  readonly email: string | undefined;
}

export interface LinearCommentInfo {
  readonly id: string;
  readonly body: string;
  readonly issueId: string | undefined;
  readonly parentId: string | undefined;
  /** The author; absent for comments by integrations and external users. */
  readonly userId: string | undefined;
  /** True when an app, integration or external user wrote it, not a Linear user. */
  readonly byBot: boolean;
  /** Epoch ms. */
  readonly createdAt: number;
}

export interface LinearApi {
  issue(idOrKey: string): Promise<LinearIssueInfo>;
  /** Creates a comment; `id` is the client-chosen UUID. */
  createComment(input: { id: string; issueId: string; body: string; parentId?: string }): Promise<void>;
  /** The comment, or undefined when it does not exist (or no longer). */
  comment(id: string): Promise<LinearCommentInfo | undefined>;
  updateComment(id: string, body: string): Promise<void>;
  deleteComment(id: string): Promise<void>;
  react(commentId: string, emoji: string): Promise<void>;
  /** Comments on these issues created after `sinceMs`, at most `maxPages` pages of 100. */
  commentsSince(
    issueIds: readonly string[],
    sinceMs: number,
    maxPages: number,
  ): Promise<{ comments: LinearCommentInfo[]; complete: boolean }>;
  user(id: string): Promise<LinearUserInfo | undefined>;
  usersByEmail(email: string): Promise<LinearUserInfo[]>;
  usersByName(name: string): Promise<LinearUserInfo[]>;
  usersByIds(ids: readonly string[]): Promise<LinearUserInfo[]>;
  /** The user the bridge acts as. */
  viewer(): Promise<LinearUserInfo>;
}

/** Longest a Linear call may take before it counts as a network failure, ms. */
export const linearCallTimeoutMs = 30_000;

export function createLinearClient(config: Pick<LinearConfig, 'auth' | 'apiUrl'>): LinearClient {
  return config.auth.kind === 'api_key'
    ? new LinearClient({ apiKey: config.auth.apiKey, apiUrl: config.apiUrl })
    : new LinearClient({ accessToken: config.auth.accessToken, apiUrl: config.apiUrl });
}

const userInfo = (u: User): LinearUserInfo => ({
  id: u.id,
  name: u.displayName || u.name,
  email: u.email || undefined,
});

const commentInfo = (c: Comment): LinearCommentInfo => ({
  id: c.id,
  body: c.body,
  issueId: c.issueId ?? undefined,
  parentId: c.parentId ?? undefined,
  userId: c.userId,
  byBot: c.botActor !== undefined || c.externalUserId !== undefined,
  createdAt: c.createdAt.getTime(),
});

export function createLinearApi(client: LinearClient, clock: Clock, timeoutMs = linearCallTimeoutMs): LinearApi {
  /** Runs one call with a deadline; maps whatever it throws. */
  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UpstreamError(`Linear did not answer within ${timeoutMs} ms while trying to ${action}.`, {
              code: 'linear_timeout',
              upstreamStatus: 0,
            }),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (err) {
      throw linearError(err, action, clock.now());
    } finally {
      clearTimeout(timer);
    }
  }

  const users = async (action: string, filter: Record<string, unknown>, first: number) =>
    (await call(action, () => client.users({ filter, first }))).nodes.map(userInfo);

  return {
    async issue(idOrKey) {
      const issue = await call('read the issue', () => client.issue(idOrKey));
      return {
        id: issue.id,
        identifier: issue.identifier,
        assigneeId: issue.assigneeId,
        creatorId: issue.creatorId,
        url: issue.url,
      };
    },
    async createComment(input) {
      await call('post a comment', () => client.createComment(input));
    },
    async comment(id) {
      try {
        return commentInfo(await call('read a comment', () => client.comment({ id })));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async updateComment(id, body) {
      await call('edit a comment', () => client.updateComment(id, { body }));
    },
    async deleteComment(id) {
      await call('delete a comment', () => client.deleteComment(id));
    },
    async react(commentId, emoji) {
      await call('react to a comment', () => client.createReaction({ commentId, emoji }));
    },
    async commentsSince(issueIds, sinceMs, maxPages) {
      const filter = { issue: { id: { in: [...issueIds] } }, createdAt: { gt: new Date(sinceMs).toISOString() } };
      let page = await call('read new comments', () =>
        client.comments({ filter, first: 100, orderBy: PaginationOrderBy.CreatedAt }),
      );
      const comments = page.nodes.map(commentInfo);
      for (let pages = 1; page.pageInfo.hasNextPage && pages < maxPages; pages++) {
        const after = page.pageInfo.endCursor;
        page = await call('read new comments', () =>
          client.comments({ filter, first: 100, orderBy: PaginationOrderBy.CreatedAt, ...(after ? { after } : {}) }),
        );
        comments.push(...page.nodes.map(commentInfo));
      }
      return { comments, complete: !page.pageInfo.hasNextPage };
    },
    async user(id) {
      try {
        return userInfo(await call('read a user', () => client.user(id)));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    usersByEmail: (email) => users('find a user by email', { email: { eqIgnoreCase: email } }, 2),
    usersByName: (name) =>
      users(
        'find a user by name',
        { or: [{ displayName: { eqIgnoreCase: name } }, { name: { eqIgnoreCase: name } }] },
        2,
      ),
    usersByIds: (ids) => users('read users', { id: { in: [...ids] } }, Math.min(250, Math.max(1, ids.length))),
    async viewer() {
      return userInfo(await call('read the bridge user', () => client.viewer));
    },
  };
}
