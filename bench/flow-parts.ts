import { join } from 'node:path';
import { startAgentRedis } from './agent-redis.js';
import { startBenchAgent } from './bench-agent.js';
import { benchPart, type BenchContext } from './bench-part.js';
import { measureBurst } from './burst-throughput.js';
import { measureFeedResume, type FeedResumeResult } from './feed-resume.js';
import type { Players } from './human.js';
import { startInprocBridge } from './inproc-bridge.js';
import { deletePrefix } from './redis-tools.js';
import { measureResumeLatency } from './resume-latency.js';
import { round, type Summary } from './stats.js';

/** Reply → agent resumed latency target, ms (issue #2). */
export const p99TargetMs = 100;

/** Handoff completed → agent job running again, p50 target, ms (issue #10). */
export const feedResumeP50TargetMs = 50;

/**
 * A bridge and a bench agent in this process for the duration of `fn`. With `ownRedis` the
 * agent's queue is on a redis-server of its own; otherwise on the bench Redis under the
 * bridge's prefix (it still reaches the bridge over HTTP only).
 */
export async function withFlow<T>(
  ctx: BenchContext,
  suffix: string,
  fn: (players: Players) => Promise<T>,
  ownRedis = false,
  env: Record<string, string> = {},
): Promise<T> {
  const prefix = ctx.track(`${ctx.base}-${suffix}`);
  const bridge = await startInprocBridge({
    prefix,
    redisUrl: ctx.redisUrl,
    logFile: join(ctx.logDir, `${prefix}.log`),
    env,
  });
  const agentRedis = ownRedis ? await startAgentRedis() : undefined;
  const agent = startBenchAgent({
    connection: agentRedis?.connection ?? ctx.redis,
    // Tagged: on a cluster, one BullMQ queue's keys must share a slot.
    prefix: agentRedis ? 'agent' : `${prefix}:{agent}`,
    client: bridge.client,
  });
  try {
    return await fn({ agent, client: bridge.client, bridgeUrl: bridge.url, serviceUrl: ctx.serviceUrl });
  } finally {
    await agent.close();
    await bridge.close();
    await agentRedis?.stop();
    await deletePrefix(ctx.redis, prefix);
  }
}

const spread = (s: Summary) => `${s.p50} / ${s.p95} / ${s.p99} ms`;

export const feedResumePart = benchPart<FeedResumeResult>({
  name: 'resume',
  title: 'handoff completed → agent job running again, the agent on its own Redis (the feed)',
  flags: { 'resume-n': '300', 'resume-warmup': '20' },
  run: (ctx) =>
    withFlow(
      ctx,
      'resume',
      (players) => measureFeedResume(players, ctx.int('resume-n'), ctx.int('resume-warmup')),
      true,
    ),
  checks: ({ ms, hops }) => [
    {
      figure: `completed → agent job running again, p50 (n=${ms.count}, own Redis)`,
      measured: `${ms.p50} ms`,
      target: `≤ ${feedResumeP50TargetMs} ms`,
      pass: ms.p50 <= feedResumeP50TargetMs,
    },
    { figure: '  p95 / p99 / max', measured: `${ms.p95} / ${ms.p99} / ${ms.max} ms`, target: '', pass: undefined },
    {
      figure: '  hop: completed → resumer read it (feed), p50/p95/p99',
      measured: spread(hops.feed),
      target: '',
      pass: undefined,
    },
    {
      figure: '  hop: → job running (promote), p50/p95/p99',
      measured: spread(hops.promote),
      target: '',
      pass: undefined,
    },
    {
      figure: '  hop: → past requireLogin (read), p50/p95/p99',
      measured: spread(hops.read),
      target: '',
      pass: undefined,
    },
  ],
});

export const latencyPart = benchPart({
  name: 'latency',
  title: 'reply → agent resumed latency through the local adapter',
  flags: { n: '300', warmup: '20' },
  run: (ctx) => withFlow(ctx, 'flow', (players) => measureResumeLatency(players, ctx.int('n'), ctx.int('warmup'))),
  checks: ({ ms }) => [
    { figure: `reply → agent resumed, p50 (n=${ms.count})`, measured: `${ms.p50} ms`, target: '', pass: undefined },
    { figure: 'reply → agent resumed, p95', measured: `${ms.p95} ms`, target: '', pass: undefined },
    {
      figure: 'reply → agent resumed, p99',
      measured: `${ms.p99} ms`,
      target: `< ${p99TargetMs} ms`,
      pass: ms.p99 < p99TargetMs,
    },
    { figure: 'reply → agent resumed, max', measured: `${ms.max} ms`, target: '', pass: undefined },
  ],
});

export const burstPart = benchPart({
  name: 'burst',
  title: 'completions per second with many replies at once',
  flags: { concurrent: '100', rounds: '5' },
  run: (ctx) => withFlow(ctx, 'burst', (players) => measureBurst(players, ctx.int('concurrent'), ctx.int('rounds'))),
  checks: (burst) => [
    {
      figure: `completions/s, ${burst.concurrent} concurrent (${burst.rounds.length} rounds)`,
      measured: `${round(burst.perSecond)} /s (worst round ${round(burst.worstRoundPerSecond)})`,
      target: 'none set',
      pass: undefined,
    },
    {
      figure: '  reply → resumed under that load, p50 / p99',
      measured: `${burst.latencyMs.p50} / ${burst.latencyMs.p99} ms`,
      target: '',
      pass: undefined,
    },
  ],
});
