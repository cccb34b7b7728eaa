import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/core/logger.js';
import type { InboundAck, InboundSink } from '../../src/core/thread-adapter.js';
import { callSlack } from './slack-errors.js';
import { replyFromEvent, type SlackEventEnvelope } from './slack-events.js';
import { parseInteraction } from './slack-interactions.js';

/**
 * What both ways in (HTTP routes and the Socket Mode connection) do with a verified payload:
 * parse it, hand replies to the sink (which deduplicates on the event id and `channel:ts`,
 * seals the text and queues it), and say what to answer Slack. Nothing here waits on anything
 * slower than the sink's Redis round trips, so the ack stays well inside Slack's 3 seconds.
 */
export interface SlackInbound {
  /** An Events API envelope. Throws when the reply could not be queued (Slack will retry). */
  event(envelope: unknown): Promise<InboundAck | 'ignored'>;
  /**
   * An interaction payload. `response` is the body to ack with (a modal update), `afterAck`
   * work that must start right after the ack (opening a modal: its trigger_id lives 3 s).
   */
  interaction(payload: unknown): Promise<SlackInteractionResult>;
}

export interface SlackInteractionResult {
  /** Body of the ack (JSON over HTTP, the envelope's payload over Socket Mode); none = empty. */
  readonly response?: unknown;
  /** Work to start right after the ack; it never throws (failures are logged). */
  readonly afterAck?: () => Promise<void>;
}

export function createSlackInbound(deps: {
  sink: InboundSink;
  client: WebClient;
  now: () => number;
  logger: Logger;
}): SlackInbound {
  const { sink, client, logger } = deps;
  return {
    async event(envelope) {
      if (typeof envelope !== 'object' || envelope === null) return 'ignored';
      const outcome = replyFromEvent(envelope as SlackEventEnvelope, deps.now());
      if (outcome.kind === 'ignored') {
        logger.debug('slack event ignored', { reason: outcome.reason });
        return 'ignored';
      }
      const ack = await sink(outcome.reply);
      logger.debug('slack reply received', { thread: outcome.reply.thread, ack });
      return ack;
    },

    async interaction(payload) {
      const outcome = parseInteraction(payload, deps.now());
      switch (outcome.kind) {
        case 'ignored':
          logger.debug('slack interaction ignored', { reason: outcome.reason });
          return {};
        case 'open_modal':
          return {
            afterAck: async () => {
              try {
                await callSlack('views.open', () =>
                  client.views.open({ trigger_id: outcome.triggerId, view: outcome.view }),
                );
              } catch (err) {
                logger.warn('could not open the modal', { error: err, callbackId: outcome.view.callback_id });
              }
            },
          };
        case 'reply': {
          const ack = await sink(outcome.reply);
          logger.debug('slack interaction received', { thread: outcome.reply.thread, ack });
          return outcome.ack === undefined ? {} : { response: outcome.ack };
        }
      }
    },
  };
}
