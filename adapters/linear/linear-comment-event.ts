import { z } from 'zod';

/**
 * The part of a Linear webhook the bridge reads: a `Comment` `create` on an issue, written
 * by a person. Everything else (updates, removals, other entity types, comments on project
 * updates, comments by apps, integrations or external users) is ignored with a reason.
 *
 * Payload shape: `{action, type, data: {id, body, issueId, parentId, userId, botActor,
 * externalUserId, user: {id, name, email}, issue: {id, identifier}}, actor: {id, type, name},
 * organizationId, webhookId, webhookTimestamp, url, createdAt}`.
 */
export interface CommentCreated {
  readonly commentId: string;
  readonly issueId: string;
  /** The top-level comment this one replies under, if any (Linear nests one level). */
  readonly parentId?: string;
  readonly body: string;
  readonly author: { readonly id: string; readonly name?: string; readonly email?: string };
}

export type CommentEvent =
  | { readonly kind: 'comment'; readonly comment: CommentCreated }
  | { readonly kind: 'ignored'; readonly reason: string };

const text = z.string().min(1);
const payloadSchema = z.object({
  type: z.string(),
  action: z.string(),
  actor: z.object({ id: z.string().optional(), type: z.string().optional() }).nullish(),
  data: z
    .object({
      id: text,
      body: z.string().nullish(),
      issueId: z.string().nullish(),
      parentId: z.string().nullish(),
      userId: z.string().nullish(),
      botActor: z.unknown().nullish(),
      externalUserId: z.string().nullish(),
      user: z
        .object({ id: z.string().optional(), name: z.string().optional(), email: z.string().optional() })
        .nullish(),
    })
    .nullish(),
});

export function parseCommentEvent(payload: unknown): CommentEvent {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) return { kind: 'ignored', reason: 'not a Linear entity event' };
  const { type, action, actor, data } = parsed.data;
  if (type !== 'Comment') return { kind: 'ignored', reason: `type ${type.slice(0, 40)}` };
  if (action !== 'create') return { kind: 'ignored', reason: `action ${action.slice(0, 40)}` };
  if (!data) return { kind: 'ignored', reason: 'no comment data' };
  if (!data.issueId) return { kind: 'ignored', reason: 'not an issue comment' };
  // Apps and integrations (ours included when it acts as an app) carry a bot actor; synced
  // Slack or email threads carry an external user. Neither is a Linear user who may approve.
  if (data.botActor || data.externalUserId || (actor?.type !== undefined && actor.type.toLowerCase() !== 'user')) {
    return { kind: 'ignored', reason: 'written by an app, integration or external user' };
  }
  const authorId = data.userId ?? data.user?.id;
  if (!authorId) return { kind: 'ignored', reason: 'no author' };
  return {
    kind: 'comment',
    comment: {
      commentId: data.id,
      issueId: data.issueId,
      ...(data.parentId ? { parentId: data.parentId } : {}),
      body: data.body ?? '',
      author: {
        id: authorId,
        ...(data.user?.name ? { name: data.user.name } : {}),
        ...(data.user?.email ? { email: data.user.email } : {}),
      },
    },
  };
}
