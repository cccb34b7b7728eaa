import type { PlatformDescriptor } from '../../src/core/platform.js';
import { slackConfigFrom, slackEnv } from './slack-config.js';
import { parseSlackThread } from './slack-thread.js';

export { parseSlackThread, slackThreadRef, type SlackThread } from './slack-thread.js';
export { slackConfigFrom, type SlackConfig } from './slack-config.js';

/**
 * Slack channels' threads. Light on purpose: Bolt and the Web API client are imported by
 * `create` only, so a bridge without Slack does not load them.
 */
export const slackPlatform: PlatformDescriptor = {
  name: 'slack',
  threadExample: 'slack:C0123456789/1700000000.000100',
  parseThread: parseSlackThread,
  env: slackEnv,
  secretVariables: ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'],
  secretShapes: [
    // bot, user, app-level and refresh (`xoxe-`) tokens
    /(?:\b|(?<=\\[nrt]))xox[abeposr]-[A-Za-z0-9-]{10,}/g,
    /(?:\b|(?<=\\[nrt]))xapp-[A-Za-z0-9-]{10,}/g,
  ],
  howToEnable:
    'Set SLACK_BOT_TOKEN and either SLACK_SIGNING_SECRET (events over HTTP at POST /slack/events) or SLACK_APP_TOKEN (Socket Mode); see the Slack section of the README.',
  configure(env) {
    const config = slackConfigFrom(env);
    if (!config) return undefined;
    return {
      name: 'slack',
      settings: config,
      publicThreads: {
        mode: config.sharedChannels,
        howToAllow: 'set SLACK_SHARED_CHANNELS=warn on the bridge (the link is then posted with a warning)',
      },
      bannerLine: (base) =>
        `  Slack     ${config.inbound.mode === 'events' ? `${base}/slack/events, ${base}/slack/interactivity` : 'Socket Mode (workers connect to Slack)'}`,
      async create(ctx) {
        // Events over HTTP routes, or a Socket Mode connection.
        const { createSlackPlatform } = await import('./slack-platform.js');
        return createSlackPlatform({ config, sink: ctx.sink, now: () => ctx.clock.now(), logger: ctx.logger });
      },
    };
  },
};
