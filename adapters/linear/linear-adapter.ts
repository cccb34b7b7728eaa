import type { Clock } from '../../src/core/clock.js';
import { HandoffError, UpstreamError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { OutboundMessage } from '../../src/core/messages.js';
import type { MessageRef, PostContext, Reaction, RedactOutcome, ThreadAdapter } from '../../src/core/thread-adapter.js';
import type { LinearApi } from './linear-api.js';
import { isNotFound } from './linear-errors.js';
import { commentIdFor, derivedUuid } from './linear-comment-id.js';
import { redactedBody, renderMessage, renderNotice, type ApproverLine } from './linear-format.js';
import type { LinearPeople } from './linear-people.js';
import { cursorSlackMs, type LinearState } from './linear-state.js';
import { parseLinearThread, type LinearThread } from './linear-thread.js';

/**
 * Linear issues as threads. The approval request is a top-level comment on the issue; every
 * later notice of the handoff is a reply under it. Comments get client-chosen ids, so a
 * retried post finds its first attempt instead of posting twice. People answer in a reply
 * (or anywhere on the issue); their comments are read by webhook or by polling.
 */
export interface LinearAdapterDeps {
  readonly api: LinearApi;
  readonly state: LinearState;
  readonly people: LinearPeople;
  readonly clock: Clock;
  readonly logger: Logger;
}

const reactionEmoji: Record<Reaction, string> = { seen: '👀', ok: '✅', fail: '❌' };

/** Outbound budget: bursts are spread out; Linear's hourly limits answer with RATELIMITED. */
export const linearOutboundRateLimit = { max: 5, durationMs: 1_000 } as const;

const retryable = (err: unknown) => err instanceof HandoffError && err.retry !== 'never';

export function createLinearAdapter(deps: LinearAdapterDeps): ThreadAdapter<LinearThread> {
  const { api, state, people, clock, logger } = deps;
  let viewerId: Promise<string> | undefined;
  /** The Linear user the bridge acts as: read once, and again after a failed read. */
  function ownId(): Promise<string> {
    viewerId ??= api.viewer().then(
      (viewer) => viewer.id,
      (err: unknown) => {
        viewerId = undefined;
        throw err;
      },
    );
    return viewerId;
  }

  /**
   * Creates a comment exactly once. When a create fails for any reason but a rate limit or a
   * bad credential, the comment may exist anyway (the first try of a retried post went
   * through and only its answer was lost): then it counts as posted, if it is ours.
   */
  async function createOnce(input: { id: string; issueId: string; body: string; parentId?: string }): Promise<void> {
    try {
      await api.createComment(input);
      return;
    } catch (err) {
      if (err instanceof HandoffError && ['linear_rate_limited', 'linear_unauthorized'].includes(err.code)) throw err;
      const existing = await api.comment(input.id);
      if (existing) {
        if (existing.userId !== undefined && existing.userId !== (await ownId())) {
          throw new UpstreamError(
            'Another Linear user already holds the comment id the bridge chose; the post was not made.',
            {
              code: 'linear_comment_id_taken',
              upstreamStatus: 409,
              retry: 'never',
            },
          );
        }
        return;
      }
      // The comment to reply under is gone (someone deleted the approval): post at the top.
      if (input.parentId !== undefined && !retryable(err))
        return createOnce({ id: input.id, issueId: input.issueId, body: input.body });
      throw err;
    }
  }

  async function post(thread: LinearThread, msg: OutboundMessage, context?: PostContext): Promise<MessageRef> {
    let issueUuid = thread.form === 'uuid' ? thread.issue : (await state.issuesOfThreads([thread.ref]))[0];
    let approvers: ApproverLine = { kind: 'named', names: [] };
    // A login's request, or an approval's (issue #13): what people answer in this thread.
    const asks = msg.kind === 'approval_request' || msg.event === 'approval_asked';
    if (asks) {
      // One read of the issue: it must exist, its UUID links webhooks to this thread, and its
      // assignee and creator are the approvers when none are named.
      const issue = await api.issue(thread.issue);
      issueUuid = issue.id;
      if (msg.kind === 'approval_request') approvers = await people.approverLine(thread, msg.approvers, issue);
    }
    const body = renderMessage(msg, approvers, clock.now());
    const id = commentIdFor(msg, body, context);
    const parentId = msg.kind === 'notice' && !asks ? await state.approvalOf(msg.handoffId) : undefined;
    await state.beforePost(id, issueUuid ? { ref: thread.ref, issueUuid } : undefined);
    await createOnce({ id, issueId: issueUuid ?? thread.issue, body, ...(parentId ? { parentId } : {}) });
    if (asks) {
      await state.rememberApproval(msg.handoffId, id);
      await state.startCursor(thread.ref, clock.now() - cursorSlackMs);
    }
    logger.debug('linear comment posted', {
      thread: thread.ref,
      handoffId: msg.handoffId,
      kind: msg.kind,
      threaded: parentId !== undefined,
    });
    return { platform: 'linear', thread: thread.ref, id };
  }

  /** Edits a comment the bridge posted; one deleted meanwhile is left alone. */
  async function update(message: MessageRef, msg: OutboundMessage): Promise<void> {
    const thread = parseLinearThread(message.thread);
    const approvers: ApproverLine =
      msg.kind === 'approval_request' ? await people.approverLine(thread, msg.approvers) : { kind: 'named', names: [] };
    try {
      await api.updateComment(message.id, renderMessage(msg, approvers, clock.now()));
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  return {
    platform: 'linear',
    // Issue keys: Linear matches them in any case.
    refsIgnoreCase: true,
    parseThread: parseLinearThread,
    outboundRateLimit: linearOutboundRateLimit,
    post,
    update,

    async react(msg, reaction) {
      try {
        await api.react(msg.id, reactionEmoji[reaction]);
      } catch (err) {
        if (retryable(err)) throw err;
        // A status reaction is a courtesy: a comment deleted meanwhile is no reason to fail.
        logger.warn('linear reaction not added', { thread: msg.thread, reaction, error: err });
      }
    },

    async redact(msg): Promise<RedactOutcome> {
      // Deleting truly removes the code; editing leaves it in Linear's edit history, so it
      // is only the fallback when this Linear user may not delete the comment.
      try {
        await api.deleteComment(msg.id);
        return 'deleted';
      } catch (err) {
        if (retryable(err)) throw err;
      }
      try {
        await api.updateComment(msg.id, redactedBody);
        return 'hidden';
      } catch (err) {
        if (retryable(err)) throw err;
      }
      const current = await api.comment(msg.id);
      if (!current) return 'deleted';
      const id = derivedUuid('handoff/linear/redact-failed', msg.id);
      await state.beforePost(id);
      await createOnce({
        id,
        issueId: current.issueId ?? parseLinearThread(msg.thread).issue,
        body: renderNotice([
          '⚠️ The bridge could not remove the comment with the spent code: this Linear user may neither delete nor edit it. The code cannot be used again; its author may delete it.',
        ]),
        ...(current.parentId ? { parentId: current.parentId } : {}),
      });
      return 'unsupported';
    },

    /** The issue's page, as Linear gives it. */
    threadLink: async (thread) => (await api.issue(thread.issue)).url,

    checkApprover: (thread, author, named) => people.check(thread, author, named),
    // Unnamed: the issue's assignee or creator, as the issue stands when someone answers.
    unnamedApprovers: 'platform_rule',
    resolvePerson: (_thread, handle) => people.resolve(handle),
  };
}
