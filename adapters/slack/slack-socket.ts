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
 *
 * Reconnection is ours, not the SDK's: its own reconnect loop lets a failed attempt (a revoked
 * token, Slack unreachable) reject where nobody listens, which would end the process. Here
 * every attempt's failure is logged and retried with backoff for as long as the bridge runs.
 */
export interface SlackSocket {
  /** Connects; resolves once Slack said hello, or after `connectWaitMs` while retrying in the background. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** How long start() waits for the first connection before letting the bridge go on, ms. */
export const connectWaitMs = 20_000;

/**
 * The wait before reconnection attempt `failures + 1`: none after a working connection
 * dropped, then 1 s, 2 s, 4 s … up to a minute while Slack keeps refusing.
 */
export function reconnectDelayMs(failures: number): number {
  return failures === 0 ? 0 : Math.min(60_000, 1000 * 2 ** (failures - 1));
}

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

export function createSlackSocket(deps: {
  appToken: string;
  apiUrl?: string;
  inbound: SlackInbound;
  logger: Logger;
}): SlackSocket {
  const logger = deps.logger.child({ component: 'slack-socket' });
  const client = new SocketModeClient({
    appToken: deps.appToken,
    logger: toSlackLogger(logger),
    autoReconnectEnabled: false,
    // Each attempt fails fast; the backoff below decides when to try again.
    clientOptions: { retryConfig: { retries: 0 }, ...(deps.apiUrl ? { slackApiUrl: deps.apiUrl } : {}) },
  });
  let stopping = false;
  let connecting = false;
  /** Set once start() has returned: from then on every failure is retried in the background. */
  let started = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

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
      logger.warn('slack socket payload not handled; Slack will deliver it again', {
        type: event.type,
        retry: event.retry_num ?? 0,
        error: err,
      });
    }
  }
  client.on('slack_event', (event: SocketEvent) => void handle(event));

  function scheduleReconnect(): void {
    if (stopping || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, reconnectDelayMs(failures));
  }

  /**
   * One connection attempt; never rejects. Once start() has returned, a failure schedules the
   * next attempt; before that, start() reports it.
   */
  async function connect(): Promise<{ ok: true } | { ok: false; err: unknown }> {
    connecting = true;
    try {
      await client.start();
      if (stopping) {
        await client.disconnect();
        return { ok: true };
      }
      failures = 0;
      logger.info('Slack Socket Mode connected');
      return { ok: true };
    } catch (err) {
      failures += 1;
      if (started && !stopping) {
        logger.error('Slack Socket Mode could not connect; trying again', {
          error: socketError(err),
          retryInMs: reconnectDelayMs(failures),
        });
        scheduleReconnect();
      }
      return { ok: false, err };
    } finally {
      connecting = false;
    }
  }

  // A failed attempt is rescheduled by connect() itself; this is for a connection that was up.
  client.on('disconnected', () => {
    if (stopping || connecting) return;
    logger.warn('Slack Socket Mode connection closed; reconnecting');
    scheduleReconnect();
  });

  return {
    async start() {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'waiting'>((resolve) => {
        timer = setTimeout(() => resolve('waiting'), connectWaitMs);
      });
      const outcome = await Promise.race([connect(), waited]);
      clearTimeout(timer);
      // The first attempt failing is a setup problem (token, URL): say so at start-up.
      if (outcome !== 'waiting' && !outcome.ok) throw socketError(outcome.err);
      started = true;
      if (outcome === 'waiting') logger.warn('Slack Socket Mode is not connected yet; still trying in the background');
    },
    async stop() {
      stopping = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      await client.disconnect();
    },
  };
}
