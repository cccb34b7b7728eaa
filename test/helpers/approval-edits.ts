import type { TestBridge } from './test-bridge.js';
import { waitFor } from './wait.js';

/**
 * A deny reason written to break out: markdown, mentions of every platform, Slack's
 * `<!channel>`, a link, a code span's backtick and a lone surrogate.
 */
export const hostileReason =
  '**bold** @alice <@U0ALICE001> <!channel> @here [click](https://evil.example/x) `tick` \uD800 end';

/**
 * Waits until a platform's outbound queue has nothing left to do (nothing waiting, running or
 * delayed), so a test can read the thread as the last queued action left it.
 */
export async function outboundIdle(bridge: Pick<TestBridge, 'bridge'>, platform: string): Promise<void> {
  const queue = bridge.bridge.queues.outbound(platform);
  await waitFor(`the ${platform} outbound queue to drain`, async () => {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children');
    return Object.values(counts).every((n) => n === 0) ? true : undefined;
  });
}
