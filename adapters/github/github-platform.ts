import type { GithubConfig } from './github-config.js';
import type { KeyValueStore } from '../../src/core/key-value.js';
import type { Route } from '../../src/core/http-route.js';
import type { Logger } from '../../src/core/logger.js';
import type { InboundSink, ThreadAdapter } from '../../src/core/thread-adapter.js';
import { createGithubAdapter } from './github-adapter.js';
import { createGithubClients, type GithubClients } from './github-client.js';
import { createPollCursorStore } from './github-poll-cursor.js';
import { createGithubPoller, type GithubPoller } from './github-poller.js';
import { createRateBudget, type RateBudget } from './github-rate-budget.js';
import { createSelfIdentity } from './github-self.js';
import type { GithubThread } from './github-thread.js';
import { githubWebhookRoute } from './github-webhook-route.js';

export { parseGithubThread, githubThreadRef, type GithubThread } from './github-thread.js';
export { githubWebhookPath } from './github-webhook-route.js';
export { ownCommentMarker } from './github-format.js';
export type { GithubPoller, GithubPollStats } from './github-poller.js';

export interface GithubPlatformOptions {
  readonly config: GithubConfig;
  /** The platform's own storage (src/core/key-value.ts), scoped to its keys. */
  readonly store: KeyValueStore;
  readonly sink: InboundSink;
  readonly now: () => number;
  readonly logger: Logger;
  /** Refresh an installation token this long before it expires, ms. Default 5 min. */
  readonly tokenRefreshMarginMs?: number;
}

export interface GithubPlatform {
  readonly adapter: ThreadAdapter<GithubThread>;
  /** POST /github/webhooks, when GITHUB_WEBHOOK_SECRET is set. */
  readonly routes: readonly Route[];
  /** Polling per repository, unless GITHUB_POLLING is off. */
  readonly poller: GithubPoller | undefined;
  readonly clients: GithubClients;
  readonly budget: RateBudget;
  start(): Promise<void>;
}

/** GitHub issues and pull requests as threads: adapter, webhook route and poller. */
export function createGithubPlatform(options: GithubPlatformOptions): GithubPlatform {
  const { config, now } = options;
  const logger = options.logger.child({ platform: 'github' });
  const budget = createRateBudget();
  const clients = createGithubClients({
    auth: config.auth,
    apiUrl: config.apiUrl,
    budget,
    logger,
    now,
    ...(options.tokenRefreshMarginMs !== undefined ? { tokenRefreshMarginMs: options.tokenRefreshMarginMs } : {}),
  });
  const cursors = createPollCursorStore(options.store);
  const self = createSelfIdentity(clients, logger);
  const adapter = createGithubAdapter({ clients, cursors, approverPermission: config.approverPermission, now, logger });
  const routes = config.webhookSecret
    ? [
        githubWebhookRoute({
          secret: config.webhookSecret,
          sink: options.sink,
          acceptEdits: config.acceptEdits,
          self: self.current,
          now,
          logger,
        }),
      ]
    : [];
  const poller = config.polling.enabled
    ? createGithubPoller({
        clients,
        cursors,
        sink: options.sink,
        self: self.current,
        budget,
        intervalMs: config.polling.intervalMs,
        acceptEdits: config.acceptEdits,
        now,
        logger,
      })
    : undefined;
  return {
    adapter,
    routes,
    poller,
    clients,
    budget,
    // Learn the token's login in the background; the marker covers the meantime.
    start: async () => void self.resolve(),
  };
}
