import type { SlackConfig } from './slack-config.js';
import type { Route } from '../../src/core/http-route.js';
import type { Logger } from '../../src/core/logger.js';
import type { InboundSink, ThreadAdapter } from '../../src/core/thread-adapter.js';
import { createSlackAdapter } from './slack-adapter.js';
import { createSlackClient } from './slack-client.js';
import { createSlackInbound } from './slack-inbound.js';
import { createSlackPeople } from './slack-people.js';
import { createSlackSharing } from './slack-sharing.js';
import { slackRoutes } from './slack-routes.js';
import { createSlackSocket } from './slack-socket.js';
import type { SlackThread } from './slack-thread.js';

export { parseSlackThread, slackThreadRef, type SlackThread } from './slack-thread.js';
export { slackEventsPath, slackInteractivityPath } from './slack-routes.js';

export interface SlackPlatformOptions {
  /** The parsed Slack part of the configuration (src/core/config-slack.ts). */
  readonly config: SlackConfig;
  /** Where verified replies go (dedupe, seal, enqueue). */
  readonly sink: InboundSink;
  /** The bridge's clock, epoch ms: signature windows and receive times. */
  readonly now: () => number;
  readonly logger: Logger;
}

export interface SlackPlatform {
  readonly adapter: ThreadAdapter<SlackThread>;
  /** POST /slack/events and /slack/interactivity (Events API mode only). */
  readonly routes: readonly Route[];
  /** Opens the Socket Mode connection (Socket Mode only; run by processes with workers). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** Slack threads: the adapter, and events in over HTTP routes or a Socket Mode connection. */
export function createSlackPlatform(options: SlackPlatformOptions): SlackPlatform {
  const { config, sink, now } = options;
  const logger = options.logger.child({ platform: 'slack' });
  const client = createSlackClient({
    token: config.botToken,
    ...(config.apiUrl ? { apiUrl: config.apiUrl } : {}),
    logger,
  });
  const adapter = createSlackAdapter({
    client,
    people: createSlackPeople(client, now),
    sharing: createSlackSharing({ client, logger }),
    privateLinks: config.privateLinks,
    dmOutsideChannel: config.dmOutsideChannel,
    codeModal: config.codeModal,
    outboundPerSecond: config.outboundPerSecond,
  });
  const inbound = createSlackInbound({ sink, client, now, logger });
  if (config.inbound.mode === 'events') {
    return { adapter, routes: slackRoutes({ signingSecret: config.inbound.signingSecret, inbound, now, logger }) };
  }
  const socket = createSlackSocket({
    appToken: config.inbound.appToken,
    ...(config.apiUrl ? { apiUrl: config.apiUrl } : {}),
    inbound,
    logger,
  });
  return { adapter, routes: [], start: socket.start, stop: socket.stop };
}
