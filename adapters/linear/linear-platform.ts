import type { Clock } from '../../src/core/clock.js';
import type { LinearConfig } from './linear-config.js';
import type { KeyValueStore } from '../../src/core/key-value.js';
import type { Route } from '../../src/core/http-route.js';
import type { InboundPoller } from '../../src/core/inbound-poller.js';
import type { Logger } from '../../src/core/logger.js';
import type { InboundSink, ThreadAdapter } from '../../src/core/thread-adapter.js';
import { createLinearAdapter } from './linear-adapter.js';
import { createLinearApi, createLinearClient } from './linear-api.js';
import { createLinearPeople } from './linear-people.js';
import { createLinearPoller } from './linear-poller.js';
import { createLinearState, type LinearState } from './linear-state.js';
import type { LinearThread } from './linear-thread.js';
import { linearWebhookRoute } from './linear-webhook.js';

export { parseLinearThread, type LinearThread } from './linear-thread.js';
export { linearWebhookPath, linearDeliveryHeader } from './linear-webhook.js';
export { redactedBody } from './linear-format.js';
export type { LinearState } from './linear-state.js';

export interface LinearPlatformOptions {
  readonly config: LinearConfig;
  /** The platform's own storage (src/core/key-value.ts), scoped to its keys. */
  readonly store: KeyValueStore;
  readonly sink: InboundSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long the adapter remembers comments, issues and threads after its last write, ms; must outlast any handoff (default 8 days). */
  readonly stateTtlMs?: number;
}

export interface LinearPlatform {
  readonly adapter: ThreadAdapter<LinearThread>;
  /** `POST /linear/webhooks` when a webhook secret is configured. */
  readonly routes: readonly Route[];
  /** Present when polling is on. */
  readonly poller?: InboundPoller;
  readonly state: LinearState;
}

/** Linear issue threads: the adapter, the webhook route and the poller, sharing one client. */
export function createLinearPlatform(options: LinearPlatformOptions): LinearPlatform {
  const { config, clock } = options;
  const logger = options.logger.child({ platform: 'linear' });
  const api = createLinearApi(createLinearClient(config), clock);
  const state = createLinearState(options.store, options.stateTtlMs);
  const people = createLinearPeople(api, () => clock.now());
  const poller = config.poll
    ? createLinearPoller({ api, state, people, sink: options.sink, clock, logger, intervalMs: config.poll.intervalMs })
    : undefined;
  return {
    adapter: createLinearAdapter({ api, state, people, clock, logger }),
    routes: config.webhookSecret
      ? [linearWebhookRoute({ secret: config.webhookSecret, state, sink: options.sink, clock, logger })]
      : [],
    ...(poller ? { poller } : {}),
    state,
  };
}
