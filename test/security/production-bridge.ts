import { randomBytes } from 'node:crypto';
import type { Resolver } from '../../src/login/pinned-connector.js';
import { redisUrl } from '../helpers/environment.js';
import { startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * A bridge with production semantics for the network tests: only origins on 127.0.0.1 are
 * allowlisted (the sandbox and the hostile services live there), so 127.0.0.2 and 127.0.0.3
 * stand in for internal hosts the bridge must never reach.
 */
export function startProductionBridge(
  name: string,
  options: { resolve?: Resolver; env?: Record<string, string> } = {},
): Promise<TestBridge> {
  return startTestBridge(name, {
    env: {
      NODE_ENV: 'production',
      REDIS_URL: redisUrl,
      HANDOFF_API_TOKEN: randomBytes(24).toString('hex'),
      HANDOFF_VAULT_KEY: randomBytes(32).toString('base64'),
      HANDOFF_SANDBOX: 'on',
      // Local threads stay available to these tests whatever production's default for them.
      HANDOFF_LOCAL_THREADS: 'on',
      HANDOFF_ALLOWED_SERVICES: 'http://127.0.0.1:*,https://127.0.0.1:*',
      HANDOFF_START_TIMEOUT_MS: '5000',
      ...options.env,
    },
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
}
