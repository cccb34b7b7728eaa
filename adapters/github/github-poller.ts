import type { InboundPoller, PollScope } from '../../src/core/inbound-poller.js';
import type { Logger } from '../../src/core/logger.js';
import type { InboundSink } from '../../src/core/thread-adapter.js';
import { readComment, replyFromComment, type SelfIdentity } from './github-comment.js';
import type { GithubClients } from './github-client.js';
import { githubError, statusOf } from './github-errors.js';
import type { PollCursorStore } from './github-poll-cursor.js';
import type { RateBudget } from './github-rate-budget.js';
import { githubThreadRef, parseGithubThread, repoScope } from './github-thread.js';

/**
 * Inbound by polling: one `GET /repos/{owner}/{repo}/issues/comments?since=…&sort=updated`
 * per repository with open handoffs, not one per issue. The query stays the same from poll
 * to poll (its `since` moves only when the window grows long, and then to one second behind
 * the newest comment, so a comment in the same second is never skipped), which makes an idle
 * repository's answer identical: sent with `If-None-Match`, it comes back 304, and GitHub
 * does not count an authorised 304 against the rate limit. Comments in issues without open
 * handoffs are skipped; the rest go to the sink, which deduplicates against webhook
 * deliveries and earlier polls by comment id.
 */
export interface GithubPollStats {
  /** Requests answered 200 (they count against the rate limit). */
  counted: number;
  /** Requests answered 304 Not Modified (free). */
  notModified: number;
  /** Replies handed to the sink and accepted. */
  accepted: number;
}

export interface GithubPollerOptions {
  readonly clients: GithubClients;
  readonly cursors: PollCursorStore;
  readonly sink: InboundSink;
  readonly self: () => SelfIdentity;
  readonly budget: RateBudget;
  /** Base interval per repository, ms. */
  readonly intervalMs: number;
  readonly acceptEdits: boolean;
  readonly now: () => number;
  readonly logger: Logger;
  /** Pages of 100 comments read per poll at most; the cursor carries on next time. Default 5. */
  readonly maxPages?: number;
}

export type GithubPoller = InboundPoller & { readonly stats: GithubPollStats };

/** Where a repository without a cursor starts, ms before now. */
export const initialLookbackMs = 3_600_000;
const perPage = 100;
/** Comments in one answer beyond which the window moves up (keeps answers small). */
const advanceAfter = 50;

const issueNumberOf = (issueUrl: unknown): number | undefined => {
  const match = typeof issueUrl === 'string' ? /\/issues\/(\d+)$/.exec(issueUrl) : null;
  return match ? Number(match[1]) : undefined;
};

export function createGithubPoller(options: GithubPollerOptions): GithubPoller {
  const { clients, cursors, sink, budget, now, logger } = options;
  const maxPages = options.maxPages ?? 5;
  const stats: GithubPollStats = { counted: 0, notModified: 0, accepted: 0 };
  let scopeCount = 1;

  async function deliver(
    raw: unknown,
    owner: string,
    repo: string,
    open: ReadonlySet<string>,
  ): Promise<string | undefined> {
    const comment = readComment(raw);
    const number = issueNumberOf((raw as { issue_url?: unknown }).issue_url);
    if (!comment || number === undefined) return undefined;
    if (open.has(githubThreadRef(owner, repo, number))) {
      // First sight of a comment edited before this poll: with edits accepted it is that edit,
      // otherwise it is the comment as it now reads.
      const asEdit = options.acceptEdits && comment.updatedAt !== comment.createdAt;
      const verdict = replyFromComment(
        comment,
        { owner, repo, number },
        {
          self: options.self(),
          deliveryId: `poll:${asEdit ? `${comment.id}@${Date.parse(comment.updatedAt)}` : comment.id}`,
          receivedAt: now(),
          asEdit,
        },
      );
      if (verdict.kind === 'reply' && (await sink(verdict.reply)) === 'accepted') stats.accepted += 1;
    }
    return comment.updatedAt;
  }

  return {
    stats,
    // Ticks are cheap (one Redis read when nothing is due); a quarter of the interval keeps
    // each repository's polls close to the interval.
    tickMs: Math.min(15_000, Math.max(250, Math.round(options.intervalMs / 4))),

    scopes(openThreads) {
      const byRepo = new Map<string, string[]>();
      for (const ref of openThreads) {
        let scope: string;
        try {
          scope = repoScope(parseGithubThread(ref));
        } catch {
          continue;
        }
        byRepo.set(scope, [...(byRepo.get(scope) ?? []), ref]);
      }
      scopeCount = Math.max(1, byRepo.size);
      return [...byRepo].map(([scope, threads]): PollScope => ({ scope, threads: threads.sort() }));
    },

    async poll(scope) {
      const [owner, repo] = scope.scope.split('/') as [string, string];
      const { octokit, identity } = await clients.forRepo(owner, repo);
      const cursor = await cursors.get(scope.scope);
      const since = cursor.since ?? new Date(now() - initialLookbackMs).toISOString();
      const open = new Set(scope.threads);
      const next = () => ({ nextPollMs: budget.nextPollMs(identity, scopeCount, options.intervalMs, now()) });

      let newest = since;
      let etag: string | undefined;
      let pages = 0;
      let seen = 0;
      for (let page = 1; page <= maxPages; page++) {
        const conditional =
          page === 1 && cursor.etag && cursor.etagSince === since ? { 'if-none-match': cursor.etag } : {};
        let data: unknown[];
        try {
          const res = await octokit.rest.issues.listCommentsForRepo({
            owner,
            repo,
            since,
            sort: 'updated',
            direction: 'asc',
            per_page: perPage,
            page,
            headers: conditional,
          });
          data = res.data;
          if (page === 1) etag = res.headers.etag;
        } catch (err) {
          if (statusOf(err) === 304) {
            stats.notModified += 1;
            await cursors.touch(scope.scope);
            return next();
          }
          throw githubError(err, `list the comments of ${scope.scope}`, now());
        }
        stats.counted += 1;
        pages = page;
        seen += data.length;
        for (const raw of data) {
          const updatedAt = await deliver(raw, owner, repo, open);
          if (updatedAt && Date.parse(updatedAt) > Date.parse(newest)) newest = updatedAt;
        }
        if (data.length < perPage) break;
      }

      // A short window is kept as it is, so the ETag just received answers the next poll with
      // a 304 unless something changed (re-read comments are duplicates the sink drops). A
      // long one moves up to one second behind the newest comment (second precision).
      const advance = pages > 1 || seen >= advanceAfter;
      const advanced =
        advance && Date.parse(newest) - 1_000 > Date.parse(since)
          ? new Date(Date.parse(newest) - 1_000).toISOString()
          : since;
      const keepEtag = advanced === since && pages === 1 && etag !== undefined;
      await cursors.save(scope.scope, { since: advanced, ...(keepEtag ? { etag, etagSince: since } : {}) });
      logger.debug('github poll', { scope: scope.scope, pages, advanced: advanced !== since });
      return next();
    },
  };
}
