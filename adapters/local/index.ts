import type { PlatformDescriptor } from '../../src/core/platform.js';
import { createLocalPlatform } from './local-platform.js';
import { parseLocalThread } from './local-thread.js';

export { parseLocalThread, type LocalThread } from './local-thread.js';

/**
 * Threads kept by the bridge itself, read and answered on its own pages (/threads/<name>). On
 * unless production, or as HANDOFF_LOCAL_THREADS (a bridge-wide setting) says.
 */
export const localPlatform: PlatformDescriptor = {
  name: 'local',
  threadExample: 'local:demo',
  parseThread: parseLocalThread,
  env: {},
  secretVariables: [],
  secretShapes: [],
  howToEnable:
    'Local threads are off in production: set HANDOFF_LOCAL_THREADS=on to serve them (their reply author is not authenticated; see docs/security.md).',
  configure(env) {
    const on = (env.HANDOFF_LOCAL_THREADS as boolean | undefined) ?? env.NODE_ENV !== 'production';
    if (!on) return undefined;
    return {
      name: 'local',
      settings: {},
      bannerLine: (base) => `  Threads   ${base}/threads/demo`,
      create: async (ctx) =>
        createLocalPlatform({
          store: ctx.store,
          sink: ctx.sink,
          linkOpened: ctx.linkOpened,
          now: () => ctx.clock.now(),
          baseUrl: ctx.publicBaseUrl,
        }),
    };
  },
};
