import { join } from 'node:path';
import type { Redis } from '../src/store/redis.js';
import { loadPlatformConfig as loadConfig } from '../test/helpers/platform-config.js';
import { startFakeSlack } from '../test/fakes/slack/fake-slack-api.js';
import { newSigningSecret } from '../test/fakes/slack/slack-signing.js';
import { startBenchAgent } from './bench-agent.js';
import { startInprocBridge } from './inproc-bridge.js';
import { deletePrefix } from './redis-tools.js';
import { measureSlackInbound, type SlackInboundResult } from './slack-inbound.js';
import { measureSlackLatency } from './slack-latency.js';
import type { LatencyResult } from './resume-latency.js';

/**
 * The Slack part of `npm run bench` (`--only slack`): a fake Slack Web API in this process
 * (the bridge's real WebClient talks to it), then the two Slack figures, each on a bridge of
 * its own under its own Redis prefix.
 */
export interface SlackBenchResult {
  readonly inbound: SlackInboundResult;
  readonly latency: LatencyResult;
}

export async function runSlackBench(options: {
  redis: Redis;
  redisUrl: string;
  base: string;
  logDir: string;
  serviceUrl: string;
  events: number;
  n: number;
  warmup: number;
  progress: (msg: string) => void;
  /** Called with each Redis prefix before it is used, so an interrupted run can delete it. */
  track?: (prefix: string) => void;
}): Promise<SlackBenchResult> {
  const slack = await startFakeSlack();
  slack.addUser({ id: 'U0ALICE001', name: 'alice', realName: 'Alice Example', email: 'alice@example.com' });
  const signingSecret = newSigningSecret();
  const env = {
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.url,
    SLACK_OUTBOUND_PER_SECOND: '50',
  };
  try {
    let inbound: SlackInboundResult;
    {
      const prefix = `${options.base}-slack-in`;
      options.track?.(prefix);
      options.progress(
        `Slack inbound: ${options.events} signed events through the handler, then over HTTP (server role: nothing drains the queue)`,
      );
      const bridge = await startInprocBridge({
        prefix,
        redisUrl: options.redisUrl,
        logFile: join(options.logDir, `${prefix}.log`),
        env: { ...env, HANDOFF_ROLE: 'server' },
      });
      try {
        const config = loadConfig({ NODE_ENV: 'development', ...env }).slack!;
        inbound = await measureSlackInbound({ bridge, config, events: options.events, concurrency: 64 });
      } finally {
        await bridge.close();
        await deletePrefix(options.redis, prefix);
      }
    }
    let latency: LatencyResult;
    {
      const prefix = `${options.base}-slack-flow`;
      options.track?.(prefix);
      options.progress(
        `Slack reply → resume over ${options.n} handoffs (+${options.warmup} warm-up), signed events to POST /slack/events`,
      );
      const bridge = await startInprocBridge({
        prefix,
        redisUrl: options.redisUrl,
        logFile: join(options.logDir, `${prefix}.log`),
        env,
      });
      const agent = startBenchAgent({ connection: options.redis, prefix: `${prefix}:{agent}`, client: bridge.client });
      try {
        latency = await measureSlackLatency({
          bridge,
          slack,
          signingSecret,
          agent,
          serviceUrl: options.serviceUrl,
          n: options.n,
          warmup: options.warmup,
        });
      } finally {
        await agent.close();
        await bridge.close();
        await deletePrefix(options.redis, prefix);
      }
    }
    return { inbound, latency };
  } finally {
    await slack.close();
  }
}
