import type { Clock } from '../../src/core/clock.js';
import { HandoffError } from '../../src/core/errors.js';
import type { InboundPoller, PollScope } from '../../src/core/inbound-poller.js';
import type { Logger } from '../../src/core/logger.js';
import type { InboundSink } from '../../src/core/thread-adapter.js';
import type { LinearApi, LinearCommentInfo } from './linear-api.js';
import type { LinearPeople } from './linear-people.js';
import { cursorSlackMs, type LinearState } from './linear-state.js';
import { parseLinearThread } from './linear-thread.js';

/**
 * Replies by polling, for bridges Linear's webhooks cannot reach (or as a safety net behind
 * them). All issues with open handoffs are read together: one `comments` query with
 * `filter: {issue: {id: {in: [...]}}, createdAt: {gt: since}}` per scope of up to
 * `linearPollChunk` issues, so N waiting handoffs cost ⌈N / 50⌉ queries per tick, not N.
 *
 * Each thread keeps a cursor in Redis: the time up to which its comments were read. A poll
 * asks from the oldest cursor of its scope and moves every cursor to "now minus a minute",
 * so a comment that becomes visible late, or a clock that runs a little off, is read again
 * rather than missed; the sink drops what it has seen (by comment id).
 */
export const linearPollChunk = 50;
/** A thread with no cursor yet is read this far back, ms. */
export const initialLookbackMs = 10 * 60_000;
/** Pages of 100 comments read per scope and poll; the rest waits for the next poll. */
export const maxPagesPerPoll = 5;

export interface LinearPollerDeps {
  readonly api: LinearApi;
  readonly state: LinearState;
  readonly people: LinearPeople;
  readonly sink: InboundSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Between two polls of a scope, ms. */
  readonly intervalMs: number;
}

export function createLinearPoller(deps: LinearPollerDeps): InboundPoller {
  const { api, state, people, sink, clock, logger, intervalMs } = deps;

  /** Issue UUID → thread ref, for the threads of a scope; keys are resolved once and remembered. */
  async function issuesOf(refs: readonly string[]): Promise<Map<string, string>> {
    const known = await state.issuesOfThreads(refs);
    const byIssue = new Map<string, string>();
    for (const [i, ref] of refs.entries()) {
      const thread = parseLinearThread(ref);
      let uuid = thread.form === 'uuid' ? thread.issue : known[i];
      if (!uuid) {
        try {
          uuid = (await api.issue(thread.issue)).id;
          await state.linkIssue(ref, uuid);
        } catch (err) {
          if (!(err instanceof HandoffError) || err.retry !== 'never') throw err;
          logger.warn('linear issue of a waiting handoff cannot be read; not polling it', { thread: ref, error: err });
          continue;
        }
      }
      byIssue.set(uuid, ref);
    }
    return byIssue;
  }

  return {
    tickMs: intervalMs,

    scopes(openThreads) {
      const threads = [...openThreads].sort();
      const scopes: PollScope[] = [];
      for (let i = 0; i < threads.length; i += linearPollChunk) {
        scopes.push({
          scope: threads.length <= linearPollChunk ? 'issues' : `issues-${i / linearPollChunk}`,
          threads: threads.slice(i, i + linearPollChunk),
        });
      }
      return scopes;
    },

    async poll(scope) {
      const byIssue = await issuesOf(scope.threads);
      if (byIssue.size === 0) return { nextPollMs: intervalMs };
      const refs = [...byIssue.values()];
      const startedAt = clock.now();
      const cursors = await state.cursors(refs);
      const since = Math.min(...cursors.map((c) => c ?? startedAt - initialLookbackMs));
      const { comments, complete } = await api.commentsSince([...byIssue.keys()], since, maxPagesPerPoll);

      const fromPeople = comments.filter(
        (c): c is LinearCommentInfo & { userId: string; issueId: string } =>
          !c.byBot && !!c.userId && !!c.issueId && byIssue.has(c.issueId),
      );
      const ours = await state.ours(fromPeople.map((c) => c.id));
      const replies = fromPeople.filter((_, i) => !ours[i]).sort((a, b) => a.createdAt - b.createdAt);
      const names = replies.length ? await people.names(replies.map((c) => c.userId)) : new Map<string, string>();
      // A reply under an approval comment answers that request and no other.
      const targets = await state.handoffsOfApprovals(
        replies.map((c) => c.parentId).filter((p): p is string => p !== undefined),
      );
      const handoffOf = new Map(replies.filter((c) => c.parentId !== undefined).map((c, i) => [c.id, targets[i]]));
      for (const c of replies) {
        const thread = byIssue.get(c.issueId)!;
        const name = names.get(c.userId);
        const handoffId = handoffOf.get(c.id);
        await sink({
          platform: 'linear',
          thread,
          ...(handoffId ? { handoffId } : {}),
          author: { id: c.userId, ...(name && name !== c.userId ? { name } : {}) },
          text: c.body,
          messageRef: { platform: 'linear', thread, id: c.id },
          deliveryId: `poll:${c.id}`,
          receivedAt: clock.now(),
        });
      }

      // A poll that read everything moves each cursor to a minute before it started; one that
      // stopped at the page limit moves only as far as what it read.
      const newest = new Map<string, number>();
      for (const c of comments) {
        const ref = c.issueId ? byIssue.get(c.issueId) : undefined;
        if (ref) newest.set(ref, Math.max(newest.get(ref) ?? 0, c.createdAt));
      }
      const next = new Map<string, number>();
      refs.forEach((ref, i) => {
        const before = cursors[i] ?? since;
        const reached = complete
          ? Math.max(newest.get(ref) ?? 0, startedAt - cursorSlackMs)
          : (newest.get(ref) ?? before);
        next.set(ref, Math.max(before, reached));
      });
      await state.setCursors(next);
      if (!complete)
        logger.warn('linear poll read its page limit; the rest follows next poll', {
          scope: scope.scope,
          comments: comments.length,
        });
      return { nextPollMs: intervalMs };
    },
  };
}
