import type { GithubPermission } from './github-config.js';
import type { Logger } from '../../src/core/logger.js';
import type { OutboundMessage } from '../../src/core/messages.js';
import type { MessageRef, Reaction, ThreadAdapter } from '../../src/core/thread-adapter.js';
import { createGithubApprovers } from './github-approvers.js';
import type { GithubClients } from './github-client.js';
import { githubError, statusOf } from './github-errors.js';
import { renderGithubComment } from './github-format.js';
import type { PollCursorStore } from './github-poll-cursor.js';
import { createGithubRedaction } from './github-redaction.js';
import { commentIdOf, parseGithubThread, repoScope, type GithubThread } from './github-thread.js';

/** Status reactions on a person's comment (GitHub's fixed set of reaction contents). */
export const githubReactions = { seen: 'eyes', ok: 'hooray', fail: 'confused' } as const satisfies Record<
  Reaction,
  string
>;

/** How long a repository's visibility is remembered, ms. */
const visibilityCacheMs = 60_000;

export interface GithubAdapterOptions {
  readonly clients: GithubClients;
  readonly cursors: PollCursorStore;
  readonly approverPermission: GithubPermission;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * Threads in GitHub issues and pull requests: comments through the issues API, status
 * reactions, approver checks against repository permissions, and removal of spent codes.
 * Public repositories are reported as public (the engine refuses or warns per policy).
 */
export function createGithubAdapter(options: GithubAdapterOptions): ThreadAdapter<GithubThread> {
  const { clients, cursors, now, logger } = options;
  const approvers = createGithubApprovers({ clients, permission: options.approverPermission, now, logger });
  const visibility = new Map<string, { isPublic: boolean; at: number }>();

  return {
    platform: 'github',
    // Owners, repositories: GitHub matches them in any case.
    refsIgnoreCase: true,
    parseThread: parseGithubThread,
    // GitHub asks for content-creating requests one at a time and at least a second apart
    // (secondary limit: 80 a minute); the outbound queue keeps to that.
    outboundRateLimit: { max: 1, durationMs: 1_000 },

    async post(thread: GithubThread, msg: OutboundMessage): Promise<MessageRef> {
      const { octokit } = await clients.forRepo(thread.owner, thread.repo);
      let created: { id: number; created_at: string };
      try {
        ({ data: created } = await octokit.rest.issues.createComment({
          owner: thread.owner,
          repo: thread.repo,
          issue_number: thread.number,
          body: renderGithubComment(msg, options.approverPermission),
        }));
      } catch (err) {
        throw githubError(err, `post to ${thread.ref}`, now());
      }
      // Polling of this repository starts at the bridge's first comment (GitHub's clock).
      await cursors.startAt(repoScope(thread), new Date(Date.parse(created.created_at) - 1_000).toISOString());
      return { platform: 'github', thread: thread.ref, id: String(created.id) };
    },

    async update(message: MessageRef, msg: OutboundMessage): Promise<void> {
      const thread = parseGithubThread(message.thread);
      const { octokit } = await clients.forRepo(thread.owner, thread.repo);
      try {
        await octokit.rest.issues.updateComment({
          owner: thread.owner,
          repo: thread.repo,
          comment_id: commentIdOf(message.id),
          body: renderGithubComment(msg, options.approverPermission),
        });
      } catch (err) {
        // The comment is gone (someone deleted it): there is nothing left to edit.
        if (statusOf(err) === 404) return;
        throw githubError(err, `edit a comment in ${thread.ref}`, now());
      }
    },

    async react(msg: MessageRef, reaction: Reaction): Promise<void> {
      const thread = parseGithubThread(msg.thread);
      const { octokit } = await clients.forRepo(thread.owner, thread.repo);
      try {
        await octokit.rest.reactions.createForIssueComment({
          owner: thread.owner,
          repo: thread.repo,
          comment_id: commentIdOf(msg.id),
          content: githubReactions[reaction],
        });
      } catch (err) {
        // The comment is gone (the bridge removed the spent code, or its author deleted it).
        if (statusOf(err) === 404) return;
        throw githubError(err, `react to a comment in ${thread.ref}`, now());
      }
    },

    redact: createGithubRedaction({ clients, now, logger }),

    async isPublic(thread: GithubThread): Promise<boolean> {
      const scope = repoScope(thread);
      const known = visibility.get(scope);
      if (known && now() - known.at < visibilityCacheMs) return known.isPublic;
      const { octokit } = await clients.forRepo(thread.owner, thread.repo);
      let isPublic: boolean;
      try {
        const { data } = await octokit.rest.repos.get({ owner: thread.owner, repo: thread.repo });
        // `internal` repositories are readable by the whole enterprise, not by the public.
        isPublic = !data.private && data.visibility !== 'internal';
      } catch (err) {
        throw githubError(err, `read the repository ${scope}`, now());
      }
      visibility.set(scope, { isPublic, at: now() });
      return isPublic;
    },

    /** The issue's or pull request's page, as the API gives it (so a GHES host is its own). */
    async threadLink(thread: GithubThread): Promise<string | undefined> {
      const { octokit } = await clients.forRepo(thread.owner, thread.repo);
      try {
        const { data } = await octokit.rest.issues.get({
          owner: thread.owner,
          repo: thread.repo,
          issue_number: thread.number,
        });
        return data.html_url;
      } catch (err) {
        throw githubError(err, `read ${thread.ref}`, now());
      }
    },

    checkApprover: (thread, author, named) => approvers.check(thread, author, named),
    // Unnamed: repository access, which no service account can be checked against.
    unnamedApprovers: 'platform_rule',
    resolvePerson: (thread, handle) => approvers.resolve(thread, handle),
  };
}
