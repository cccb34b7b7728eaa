import type { PlatformDescriptor } from '../../src/core/platform.js';
import { linearConfigFrom, linearEnv } from './linear-config.js';
import { parseLinearThread } from './linear-thread.js';

export { parseLinearThread, type LinearThread } from './linear-thread.js';
export { linearConfigFrom, type LinearConfig } from './linear-config.js';

/** How long the adapter's links outlast the longest handoff, ms (a week). */
const stateMarginMs = 7 * 24 * 3_600_000;

/**
 * Linear issues as threads. Light on purpose: the Linear SDK is imported by `create` only, so
 * a bridge without Linear does not load it.
 */
export const linearPlatform: PlatformDescriptor = {
  name: 'linear',
  threadExample: 'linear:ENG-123',
  parseThread: parseLinearThread,
  env: linearEnv,
  secretVariables: ['LINEAR_API_KEY', 'LINEAR_ACCESS_TOKEN', 'LINEAR_WEBHOOK_SECRET'],
  secretShapes: [/(?:\b|(?<=\\[nrt]))lin_(?:api|oauth|wh)_[A-Za-z0-9]{20,}/g],
  howToEnable:
    'To use them, set LINEAR_API_KEY (or LINEAR_ACCESS_TOKEN), plus LINEAR_WEBHOOK_SECRET for webhooks (without it the bridge polls Linear).',
  configure(env) {
    const config = linearConfigFrom(env);
    if (!config) return undefined;
    return {
      name: 'linear',
      settings: config,
      async create(ctx) {
        const { createLinearPlatform } = await import('./linear-platform.js');
        return createLinearPlatform({
          config,
          store: ctx.store,
          sink: ctx.sink,
          clock: ctx.clock,
          logger: ctx.logger,
          // The adapter's links between issues and threads must outlast the longest handoff.
          stateTtlMs: ctx.maxHandoffLifetimeMs + stateMarginMs,
        });
      },
    };
  },
};
