import { SocketModeClient } from '@slack/socket-mode';
import { UpstreamError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { toSlackLogger } from './slack-client.js';
import type { SlackInbound } from './slack-inbound.js';

/**
 * Socket Mode: the bridge opens a WebSocket to Slack (apps.connections.open with the app-level
 * token returns its URL) and Slack pushes the same event and interaction payloads through it,
 * so no public URL is needed. Frames carry no signature — the connection itself was opened
 * with our token — but they are deduplicated like HTTP deliveries: Slack redelivers an
 * envelope that was not acked in time. A payload is acked only after it is safely queued.
 */
export interface SlackSocket {
  /** Connects; resolves once Slack said hello, or after `connectWaitMs` while retrying in the background. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** How long start() waits for the first connection before letting the bridge go on, ms. */
export const connectWaitMs = 20_000;

interface SocketEvent {
  readonly type: string;
  readonly body: unknown;
  readonly retry_num?: number;
  ack(response?: unknown): Promise<void>;
}

function socketError(err: unknown): UpstreamError {
  const slackCode = (err as { data?: { error?: unknown } } | null)?.data?.error;
  return new UpstreamError(
    `Slack Socket Mode could not connect${typeof slackCode === 'string' ? ` (${slackCode})` : ''}. Check SLACK_APP_TOKEN: an app-level token (xapp-…) with connections:write, and Socket Mode turned on in the app settings.`,
    { code: 'slack_socket_failed', upstreamStatus: 0, retry: 'never', cause: err },
  );
}

export function createSlackSocket(deps: { appToken: string; apiUrl?: string; inbound: SlackInbound; logger: Logger }): SlackSocket {
  const logger = deps.logger.child({ component: 'slack-socket' });
  const client = new SocketModeClient({
    appToken: deps.appToken,
    logger: toSlackLogger(logger),
    autoReconnectEnabled: true,
    clientOptions: deps.apiUrl ? { slackApiUrl: deps.apiUrl } : {},
  });

  async function handle(event: SocketEvent): Promise<void> {
    try {
      if (event.type === 'events_api') {
        await deps.inbound.event(event.body);
        await event.ack();
      } else if (event.type === 'interactive') {
        const result = await deps.inbound.interaction(event.body);
        await event.ack(result.response);
        await result.afterAck?.();
      } else {
        await event.ack();
      }
    } catch (err) {
      logger.warn('slack socket payload not handled; Slack will deliver it again', { type: event.type, retry: event.retry_num ?? 0, error: err });
    }
  }
  client.on('slack_event', (event: SocketEvent) => void handle(event));

  return {
    async start() {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'waiting'>((resolve) => {
        timer = setTimeout(() => resolve('waiting'), connectWaitMs);
      });
      const connecting = client.start().then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      const outcome = await Promise.race([connecting, waited]);
      clearTimeout(timer);
      if (outcome === 'waiting') {
        logger.warn('Slack Socket Mode is not connected yet; still trying in the background');
        void connecting.then((late) => {
          if (!late.ok) logger.error('Slack Socket Mode could not connect', { error: socketError(late.err) });
        });
        return;
      }
      if (!outcome.ok) throw socketError(outcome.err);
      logger.info('Slack Socket Mode connected');
    },
    async stop() {
      await client.disconnect();
    },
  };
}
