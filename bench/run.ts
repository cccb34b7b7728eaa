/**
 * `npm run bench`: the bridge's performance figures, on real Redis with the real bridge,
 * sandbox service and requireLogin(). See bench/README.md.
 *
 *   npm run bench -- [--n 300] [--warmup 20] [--concurrent 100] [--rounds 5]
 *                    [--waiting 10000] [--webhooks 3000] [--only latency,burst,memory,github]
 *                    [--out bench/results/latest.json]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBenchAgent } from './bench-agent.js';
import { measureBurst, type BurstResult } from './burst-throughput.js';
import { measureGithubIdlePolling, type IdlePollingResult } from './github-polling.js';
import { measureGithubWebhooks, type WebhookResult } from './github-webhooks.js';
import { startInprocBridge } from './inproc-bridge.js';
import { connectRedis, deletePrefix, randomPrefix, redisUrl, redisVersion } from './redis-tools.js';
import { checks, machineFacts, render, writeJson } from './report.js';
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
    webhooks: { type: 'string', default: '3000' },
    only: { type: 'string', default: 'latency,burst,memory,github' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/latest.json', import.meta.url)) },
  },
});
const int = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1`);
  return value;
};
const params = { n: int('n'), warmup: int('warmup'), concurrent: int('concurrent'), rounds: int('rounds'), waiting: int('waiting'), webhooks: int('webhooks') };
const only = new Set(values.only!.split(','));
const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const started = Date.now();
const base = randomPrefix();
const logDir = tmpdir();
const redis = connectRedis();
const sandbox = await startSandboxServer();
const machine = machineFacts(await redisVersion(redis));
let latency: LatencyResult | undefined;
let burst: BurstResult | undefined;
let memory: MemoryResult | undefined;
let github: { webhooks: WebhookResult; polling: IdlePollingResult } | undefined;

try {
  if (only.has('latency') || only.has('burst')) {
    const prefix = `${base}-flow`;
    const bridge = await startInprocBridge({ prefix, redisUrl, logFile: join(logDir, `${prefix}.log`) });
    const agent = startBenchAgent({ connection: redis, prefix: `${prefix}:agent`, client: bridge.client });
    const players = { agent, client: bridge.client, bridgeUrl: bridge.url, serviceUrl: sandbox.serviceUrl };
    try {
      if (only.has('latency')) {
        progress(`1/3 reply → resume latency over ${params.n} handoffs (+${params.warmup} warm-up)`);
        latency = await measureResumeLatency(players, params.n, params.warmup);
      }
      if (only.has('burst')) {
        progress(`2/3 ${params.rounds} rounds of ${params.concurrent} concurrent replies`);
        burst = await measureBurst(players, params.concurrent, params.rounds);
      }
    } finally {
      await agent.close();
      await bridge.close();
      await deletePrefix(redis, prefix);
    }
  }
  if (only.has('memory')) {
    const prefix = `${base}-wait`;
    progress(`3/3 ${params.waiting} waiting handoffs on a bridge process of its own (Redis bytes, RSS)`);
    try {
      memory = await measureWaitingMemory({
        redis,
        redisUrl,
        prefix,
        serviceUrl: sandbox.serviceUrl,
        waiting: params.waiting,
        warmup: Number(process.env.BENCH_MEM_WARMUP ?? 500),
        settleMs: Number(process.env.BENCH_SETTLE_MS ?? 2000),
        logFile: join(logDir, `${prefix}-bridge.log`),
      });
    } finally {
      await deletePrefix(redis, prefix);
    }
  }
  if (only.has('github')) {
    const prefix = `${base}-gh`;
    try {
      progress(`4/4 GitHub: ${params.webhooks} signed webhook deliveries; idle polling of 100 waiting handoffs in 10 repositories`);
      const webhooks = await measureGithubWebhooks({ prefix, redisUrl, logFile: join(logDir, `${prefix}.log`), deliveries: params.webhooks + 20, concurrency: 32 });
      const polling = await measureGithubIdlePolling({ redis, prefix, repos: 10, handoffs: 100, rounds: 5 });
      github = { webhooks, polling };
    } finally {
      await deletePrefix(redis, prefix);
    }
  }
} finally {
  await sandbox.close();
  redis.disconnect();
}

const durationMs = Date.now() - started;
const list = checks(latency, burst, memory, github);
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
  github,
});
progress(`wrote ${values.out}; bridge logs in ${logDir}/${base}-*.log`);
