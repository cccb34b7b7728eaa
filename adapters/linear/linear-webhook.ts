import { LINEAR_WEBHOOK_SIGNATURE_HEADER, LinearWebhookClient } from '@linear/sdk/webhooks';
import type { Clock } from '../../src/core/clock.js';
import { BadInputError, HandoffError } from '../../src/core/errors.js';
import { json, requireJsonObject, type Route } from '../../src/core/http-route.js';
import type { Logger } from '../../src/core/logger.js';
import type { InboundSink } from '../../src/core/thread-adapter.js';
import { parseCommentEvent } from './linear-comment-event.js';
import type { LinearState } from './linear-state.js';

/**
 * `POST /linear/webhooks`: verify, parse, filter, hand to the sink, answer. Nothing slow
 * happens here (Linear waits 5 s and retries a failed delivery later): no Linear API call,
 * one Redis round trip before the sink.
 *
 * - The signature (`linear-signature`, hex HMAC-SHA256 of the raw body) and the signed
 *   `webhookTimestamp` (at most 60 s off) are checked by the SDK's LinearWebhookClient.
 * - Only people's comments on issues where the bridge has posted are passed on: the rest of
 *   the workspace's comments never reach the queue.
 * - The sink deduplicates by `linear-delivery` and by comment id.
 */
export const linearWebhookPath = '/linear/webhooks';
/** Linear's delivery id header (a UUID per delivery; a redelivery keeps it). */
export const linearDeliveryHeader = 'linear-delivery';

export function linearWebhookRoute(deps: {
  secret: string;
  state: LinearState;
  sink: InboundSink;
  clock: Clock;
  logger: Logger;
}): Route {
  const verifier = new LinearWebhookClient(deps.secret);
  const reject = (status: number, code: string, message: string, delivery: string | undefined) => {
    deps.logger.warn('linear webhook rejected', { code, delivery });
    return new HandoffError(message, { code, status });
  };

  return {
    method: 'POST',
    path: linearWebhookPath,
    maxBodyBytes: 1024 * 1024,
    async handler(req) {
      const delivery = req.headers[linearDeliveryHeader]?.slice(0, 100);
      const signature = req.headers[LINEAR_WEBHOOK_SIGNATURE_HEADER];
      if (!signature)
        throw reject(
          400,
          'missing_signature',
          'Linear webhooks carry a linear-signature header; this request has none.',
          delivery,
        );
      let payload: unknown;
      try {
        payload = verifier.parseData(req.rawBody, signature);
      } catch (err) {
        if (err instanceof SyntaxError)
          throw new BadInputError('The webhook body is not JSON.', { code: 'invalid_payload' });
        const stale = err instanceof Error && /timestamp/i.test(err.message);
        // The SDK checks the timestamp (inside the body) only after the signature matched: a
        // signed body that is no object at all is bad input, not a replay.
        if (stale) requireJsonObject(JSON.parse(req.rawBody.toString('utf8')), 'A Linear webhook body');
        throw stale
          ? reject(
              401,
              'stale_webhook',
              'The webhook timestamp is missing or more than a minute off; it may be a replay.',
              delivery,
            )
          : reject(401, 'invalid_signature', 'The webhook signature does not match LINEAR_WEBHOOK_SECRET.', delivery);
      }

      const event = parseCommentEvent(payload);
      if (event.kind === 'ignored') return json(200, { ok: true, ignored: event.reason });
      const { comment } = event;
      const known = await deps.state.inbound(comment.commentId, comment.issueId, comment.parentId);
      if (known.ours) return json(200, { ok: true, ignored: 'the bridge’s own comment' });
      if (!known.thread) return json(200, { ok: true, ignored: 'no handoff was posted on this issue' });

      const ack = await deps.sink({
        platform: 'linear',
        thread: known.thread,
        // A reply under an approval comment answers that request and no other.
        ...(known.handoffId ? { handoffId: known.handoffId } : {}),
        author: comment.author,
        text: comment.body,
        messageRef: { platform: 'linear', thread: known.thread, id: comment.commentId },
        deliveryId: delivery || `comment:${comment.commentId}`,
        receivedAt: deps.clock.now(),
      });
      deps.logger.debug('linear webhook accepted', { delivery, thread: known.thread, ack });
      return json(200, { ok: true, ack });
    },
  };
}
