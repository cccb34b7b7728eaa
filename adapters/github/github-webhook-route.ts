import { Webhooks } from '@octokit/webhooks';
import { BadInputError, UnauthorizedError } from '../../src/core/errors.js';
import { json, requireJsonObject, type Route } from '../../src/core/http-route.js';
import type { Logger } from '../../src/core/logger.js';
import type { InboundSink } from '../../src/core/thread-adapter.js';
import { readComment, replyFromComment, type SelfIdentity } from './github-comment.js';

/** Where GitHub delivers webhooks on the bridge's server. */
export const githubWebhookPath = '/github/webhooks';

/** GitHub caps webhook payloads at 25 MB; an issue comment event is far smaller. */
const maxBodyBytes = 5 * 1024 * 1024;

export interface GithubWebhookOptions {
  readonly secret: string;
  readonly sink: InboundSink;
  readonly acceptEdits: boolean;
  readonly self: () => SelfIdentity;
  readonly now: () => number;
  readonly logger: Logger;
}

/** `repository.full_name`, `issue.number` and the comment of an `issue_comment` payload. */
function readIssueComment(payload: unknown) {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
    string,
    Record<string, unknown> | undefined
  >;
  const fullName = p.repository?.full_name;
  const number = p.issue?.number;
  const comment = readComment(p.comment);
  const action = (payload as { action?: unknown }).action;
  if (
    typeof fullName !== 'string' ||
    !fullName.includes('/') ||
    typeof number !== 'number' ||
    !comment ||
    typeof action !== 'string'
  ) {
    throw new BadInputError('The issue_comment payload lacks repository.full_name, issue.number or comment.', {
      code: 'invalid_webhook_payload',
    });
  }
  const [owner, repo] = fullName.split('/') as [string, string];
  return { action, owner, repo, number, comment };
}

/**
 * POST /github/webhooks: verify `x-hub-signature-256` (sha256 HMAC of the raw body with the
 * webhook secret), then take `issue_comment` `created` (and `edited` when configured) and hand
 * the reply to the sink, which deduplicates by `x-github-delivery` and comment id. Nothing
 * slow happens here: GitHub gives a delivery 10 seconds and never retries by itself.
 */
export function githubWebhookRoute(options: GithubWebhookOptions): Route {
  const webhooks = new Webhooks({ secret: options.secret });
  return {
    method: 'POST',
    path: githubWebhookPath,
    maxBodyBytes,
    async handler(req) {
      const event = req.headers['x-github-event'];
      const deliveryId = req.headers['x-github-delivery'];
      const signature = req.headers['x-hub-signature-256'];
      if (!event || !deliveryId) {
        throw new BadInputError(
          'A GitHub webhook carries x-github-event and x-github-delivery headers; this request has not.',
          { code: 'invalid_webhook' },
        );
      }
      if (!signature)
        throw new UnauthorizedError(
          'The webhook is not signed: set the webhook’s secret on GitHub to GITHUB_WEBHOOK_SECRET.',
        );
      const body = req.rawBody.toString('utf8');
      if (body.length === 0) throw new BadInputError('The webhook has an empty body.', { code: 'invalid_webhook' });
      if (!(await webhooks.verify(body, signature))) {
        options.logger.warn('github webhook with a bad signature', {
          deliveryId: deliveryId.slice(0, 64),
          event: event.slice(0, 64),
        });
        throw new UnauthorizedError(
          'The x-hub-signature-256 header does not match the body: check that GITHUB_WEBHOOK_SECRET is the webhook’s secret.',
        );
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        throw new BadInputError('The webhook body is not JSON; set the webhook’s content type to application/json.', {
          code: 'invalid_webhook',
        });
      }
      requireJsonObject(payload, 'A GitHub webhook body');
      if (event === 'ping') return json(200, { ok: true });
      if (event !== 'issue_comment') return json(202, { ignored: 'event' });

      const { action, owner, repo, number, comment } = readIssueComment(payload);
      const isEdit = action === 'edited';
      if (action !== 'created' && !(isEdit && options.acceptEdits)) return json(202, { ignored: 'action' });
      const verdict = replyFromComment(
        comment,
        { owner, repo, number },
        { self: options.self(), deliveryId, receivedAt: options.now(), asEdit: isEdit },
      );
      if (verdict.kind === 'ignored') return json(202, { ignored: verdict.reason });
      const ack = await options.sink(verdict.reply);
      options.logger.debug('github webhook accepted', {
        deliveryId: deliveryId.slice(0, 64),
        thread: verdict.reply.thread,
        ack,
      });
      return json(202, { ack });
    },
  };
}
