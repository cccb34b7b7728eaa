/**
 * `npm run bench`: the bridge's performance figures, on real Redis with the real bridge,
 * sandbox service and requireLogin(). See bench/README.md.
 *
 *   npm run bench -- [--n 300] [--warmup 20] [--concurrent 100] [--rounds 5]
 *                    [--waiting 10000] [--mem-warmup 500] [--settle-ms 2000]
 *                    [--discovery 300] [--only latency,burst,memory,discovery]
 *                    [--out bench/results/latest.json]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBenchAgent } from './bench-agent.js';
import { stopChildBridges } from './child-bridge.js';
import { measureBurst, type BurstResult } from './burst-throughput.js';
import { measureDiscovery, type DiscoveryResult } from './discovery.js';
import { startInprocBridge } from './inproc-bridge.js';
import { connectRedis, deletePrefix, randomPrefix, redisUrl, redisVersion } from './redis-tools.js';
import { checks, finishFacts, machineFacts, render, writeJson } from './report.js';
import { measureResumeLatency, type LatencyResult } from './resume-latency.js';
import { startSandboxServer } from './sandbox-server.js';
import { measureWaitingMemory, type MemoryResult } from './waiting-memory.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '20' },
    concurrent: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '5' },
    waiting: { type: 'string', default: '10000' },
    'mem-warmup': { type: 'string', default: '500' },
    'settle-ms': { type: 'string', default: '2000' },
    discovery: { type: 'string', default: '300' },
    only: { type: 'string', default: 'latency,burst,memory,discovery' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/latest.json', import.meta.url)) },
  },
});
const int = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1`);
  return value;
};
const params = {
  n: int('n'),
  warmup: int('warmup'),
  concurrent: int('concurrent'),
  rounds: int('rounds'),
  waiting: int('waiting'),
  memWarmup: int('mem-warmup'),
  settleMs: int('settle-ms'),
  discovery: int('discovery'),
};
const only = new Set(values.only!.split(','));
const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const started = Date.now();
const base = randomPrefix();
const logDir = tmpdir();
const redis = connectRedis();
const sandbox = await startSandboxServer();
let machine = machineFacts(await redisVersion(redis));
// Ctrl-C: stop what is running (the bridge child gets the signal too), then delete the keys.
const active = new Set<string>();
const running = new Set<() => Promise<void>>();
process.once('SIGINT', () => {
  progress('interrupted: stopping, then deleting the bench keys');
  void Promise.all([stopChildBridges(), ...[...running].map((stop) => stop().catch(() => undefined))])
    .then(() => Promise.all([...active].map((p) => deletePrefix(redis, p))))
    .finally(() => process.exit(130));
});
let latency: LatencyResult | undefined;
let burst: BurstResult | undefined;
let memory: MemoryResult | undefined;
let discovery: DiscoveryResult | undefined;

try {
  if (only.has('latency') || only.has('burst')) {
    const prefix = `${base}-flow`;
    active.add(prefix);
    const bridge = await startInprocBridge({ prefix, redisUrl, logFile: join(logDir, `${prefix}.log`) });
    const agent = startBenchAgent({ connection: redis, prefix: `${prefix}:agent`, client: bridge.client });
    const players = { agent, client: bridge.client, bridgeUrl: bridge.url, serviceUrl: sandbox.serviceUrl };
    const stop = async () => {
      await agent.close();
      await bridge.close();
    };
    running.add(stop);
    try {
      if (only.has('latency')) {
        progress(`1/4 reply → resume latency over ${params.n} handoffs (+${params.warmup} warm-up)`);
        latency = await measureResumeLatency(players, params.n, params.warmup);
      }
      if (only.has('burst')) {
        progress(`2/4 ${params.rounds} rounds of ${params.concurrent} concurrent replies`);
        burst = await measureBurst(players, params.concurrent, params.rounds);
      }
    } finally {
      running.delete(stop);
      await stop();
      await deletePrefix(redis, prefix);
    }
  }
  if (only.has('memory')) {
    const prefix = `${base}-wait`;
    active.add(prefix);
    progress(`3/4 ${params.waiting} waiting handoffs on a bridge process of its own (Redis bytes, RSS)`);
    try {
      memory = await measureWaitingMemory({
        redis,
        redisUrl,
        prefix,
        serviceUrl: sandbox.serviceUrl,
        waiting: params.waiting,
        warmup: params.memWarmup,
        settleMs: params.settleMs,
        logFile: join(logDir, `${prefix}-bridge.log`),
      });
    } finally {
      await deletePrefix(redis, prefix);
    }
  }
  if (only.has('discovery')) {
    const prefix = `${base}-disc`;
    active.add(prefix);
    progress(`4/4 protocol discovery, ${params.discovery} times cold and ${params.discovery} times cached`);
    try {
      discovery = await measureDiscovery({ redis, prefix, n: params.discovery });
    } finally {
      await deletePrefix(redis, prefix);
    }
  }
} finally {
  await sandbox.close();
  redis.disconnect();
}

const durationMs = Date.now() - started;
machine = finishFacts(machine);
const list = checks(latency, burst, memory, discovery);
process.stdout.write(`${render(machine, list, memory, durationMs)}\n`);
await writeJson(values.out!, {
  generatedAt: new Date().toISOString(),
  durationMs,
  machine,
  params: { ...params, redisUrl: redisUrl.replace(/\/\/[^@]*@/, '//***@') },
  checks: list,
  latency,
  burst,
  memory,
  discovery,
});
progress(`wrote ${values.out}; bridge logs in ${logDir}/${base}-*.log`);
