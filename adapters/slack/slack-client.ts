import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../../src/core/logger.js';

/** How long one Web API call may take before it counts as a network failure, ms. */
export const slackCallTimeoutMs = 10_000;

/**
 * The Slack SDKs' logger interface on top of ours. Their debug lines carry whole request and
 * WebSocket payloads (a reply with a finish code, an approval link), so debug is dropped
 * entirely; info becomes our debug; warnings and errors pass through (and through our
 * logger's secret masking).
 */
export function toSlackLogger(logger: Logger): SlackLogger {
  const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  return {
    debug: () => undefined,
    info: (...msg: unknown[]) => logger.debug(text(msg)),
    warn: (...msg: unknown[]) => logger.warn(text(msg)),
    error: (...msg: unknown[]) => logger.error(text(msg)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

export interface SlackClientOptions {
  /** Bot token, `xoxb-…`. */
  readonly token: string;
  /** Web API base URL; default Slack's own. Tests point it at a fake. */
  readonly apiUrl?: string;
  /** Receives the SDK's warnings and errors (its debug output is dropped). */
  readonly logger: Logger;
}

/**
 * The real WebClient, configured for a queue-driven bridge: no retries inside the client and
 * rate limits rejected at once, so every failure reaches the outbound queue, which owns
 * retrying (with backoff) and waiting out a 429 (by pausing the platform's queue).
 */
export function createSlackClient(options: SlackClientOptions): WebClient {
  return new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    logger: toSlackLogger(options.logger.child({ component: 'slack-web-api' })),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: slackCallTimeoutMs,
    allowAbsoluteUrls: false,
  });
}
