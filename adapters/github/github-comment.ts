import type { InboundReply } from '../../src/core/thread-adapter.js';
import { isOwnComment } from './github-format.js';
import { editMessageId, githubThreadRef } from './github-thread.js';

/**
 * One issue or pull-request comment, as both the REST API and the `issue_comment` webhook
 * describe it (the fields the bridge reads).
 */
export interface GithubComment {
  readonly id: number;
  readonly body: string;
  /** `null` for a deleted ("ghost") account. */
  readonly user: { readonly login: string; readonly type: string } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Set when a GitHub App wrote the comment. */
  readonly viaAppId: number | undefined;
}

/** Who the bridge is, so its own comments are never taken as answers. */
export interface SelfIdentity {
  /** The App's id, when the bridge is a GitHub App. */
  readonly appId: number | undefined;
  /** The token's login, when known. */
  readonly login: string | undefined;
}

export type CommentVerdict =
  | { readonly kind: 'reply'; readonly reply: InboundReply }
  | { readonly kind: 'ignored'; readonly reason: 'own_comment' | 'bot' | 'ghost' | 'empty' };

/** Reads a comment object from an API response or a webhook payload; undefined if it is not one. */
export function readComment(raw: unknown): GithubComment | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const c = raw as Record<string, unknown>;
  const user = c.user as Record<string, unknown> | null | undefined;
  const app = c.performed_via_github_app as Record<string, unknown> | null | undefined;
  if (typeof c.id !== 'number' || typeof c.created_at !== 'string') return undefined;
  return {
    id: c.id,
    body: typeof c.body === 'string' ? c.body : '',
    user:
      user && typeof user.login === 'string'
        ? { login: user.login, type: typeof user.type === 'string' ? user.type : 'User' }
        : null,
    createdAt: c.created_at,
    updatedAt: typeof c.updated_at === 'string' ? c.updated_at : c.created_at,
    viaAppId: app && typeof app.id === 'number' ? app.id : undefined,
  };
}

/**
 * Turns a person's comment into an InboundReply. Ignored: the bridge's own comments (marker,
 * App id or login), bot accounts, deleted accounts, empty bodies. `asEdit` gives the
 * reply the identity of this edit, so it is not deduplicated against the comment it changed.
 */
export function replyFromComment(
  comment: GithubComment,
  where: { readonly owner: string; readonly repo: string; readonly number: number },
  context: {
    readonly self: SelfIdentity;
    readonly deliveryId: string;
    readonly receivedAt: number;
    readonly asEdit: boolean;
  },
): CommentVerdict {
  const { self } = context;
  if (isOwnComment(comment.body)) return { kind: 'ignored', reason: 'own_comment' };
  if (self.appId !== undefined && comment.viaAppId === self.appId) return { kind: 'ignored', reason: 'own_comment' };
  if (!comment.user) return { kind: 'ignored', reason: 'ghost' };
  if (self.login !== undefined && comment.user.login.toLowerCase() === self.login.toLowerCase())
    return { kind: 'ignored', reason: 'own_comment' };
  // Other Apps' bots; a person answering through an App (user-to-server) still counts.
  if (comment.user.type === 'Bot') return { kind: 'ignored', reason: 'bot' };
  if (comment.body.trim() === '') return { kind: 'ignored', reason: 'empty' };
  const thread = githubThreadRef(where.owner, where.repo, where.number);
  const id = context.asEdit ? editMessageId(comment.id, comment.updatedAt) : String(comment.id);
  return {
    kind: 'reply',
    reply: {
      platform: 'github',
      thread,
      author: { id: comment.user.login, name: comment.user.login },
      text: comment.body,
      messageRef: { platform: 'github', thread, id },
      deliveryId: context.deliveryId,
      receivedAt: context.receivedAt,
    },
  };
}
