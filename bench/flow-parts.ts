import { join } from 'node:path';
import { startBenchAgent } from './bench-agent.js';
import { benchPart, type BenchContext } from './bench-part.js';
import { measureBurst } from './burst-throughput.js';
import type { Players } from './human.js';
import { startInprocBridge } from './inproc-bridge.js';
import { deletePrefix } from './redis-tools.js';
import { measureResumeLatency } from './resume-latency.js';
import { round } from './stats.js';

/** Reply → agent resumed latency target, ms (issue #2). */
export const p99TargetMs = 100;

/** A bridge and a bench agent in this process for the duration of `fn`. */
async function withFlow<T>(ctx: BenchContext, suffix: string, fn: (players: Players) => Promise<T>): Promise<T> {
  const prefix = ctx.track(`${ctx.base}-${suffix}`);
  const bridge = await startInprocBridge({ prefix, redisUrl: ctx.redisUrl, logFile: join(ctx.logDir, `${prefix}.log`) });
  const agent = startBenchAgent({ connection: ctx.redis, prefix: `${prefix}:agent`, client: bridge.client });
  try {
    return await fn({ agent, client: bridge.client, bridgeUrl: bridge.url, serviceUrl: ctx.serviceUrl });
  } finally {
    await agent.close();
    await bridge.close();
    await deletePrefix(ctx.redis, prefix);
  }
}

export const latencyPart = benchPart({
  name: 'latency',
  title: 'reply → agent resumed latency through the local adapter',
  flags: { n: '300', warmup: '20' },
  run: (ctx) => withFlow(ctx, 'flow', (players) => measureResumeLatency(players, ctx.int('n'), ctx.int('warmup'))),
  checks: ({ ms }) => [
    { figure: `reply → agent resumed, p50 (n=${ms.count})`, measured: `${ms.p50} ms`, target: '', pass: undefined },
    { figure: 'reply → agent resumed, p95', measured: `${ms.p95} ms`, target: '', pass: undefined },
    { figure: 'reply → agent resumed, p99', measured: `${ms.p99} ms`, target: `< ${p99TargetMs} ms`, pass: ms.p99 < p99TargetMs },
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
    { figure: '  reply → resumed under that load, p50 / p99', measured: `${burst.latencyMs.p50} / ${burst.latencyMs.p99} ms`, target: '', pass: undefined },
  ],
});
