/**
 * `npm run bench`: the bridge's performance figures, on real Redis with the real bridge,
 * sandbox service and requireLogin(). See bench/README.md; the parts are listed in parts.ts.
 *
 *   npm run bench -- [--only latency,burst,memory,discovery,slack,github,linear] [--cluster]
 *                    [--out bench/results/latest.json] [--<flag of a part> value]…
 *
 * A part that throws is reported as failed (a FAIL row, and `failures` in the JSON) while the
 * others still run and are written; the exit code is then 1.
 */
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stopChildBridges } from './child-bridge.js';
import { benchParts } from './parts.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';
import { connectRedis, deletePrefix, randomPrefix, redisUrl as defaultRedisUrl, redisVersion } from './redis-tools.js';
import { finishFacts, machineFacts, render, writeJson } from './report.js';
import { reportOf, runParts, type PartsRun } from './run-parts.js';
import { startSandboxServer } from './sandbox-server.js';

const partFlags = Object.assign({}, ...benchParts.map((p) => p.flags)) as Record<string, string>;
const { values } = parseArgs({
  options: {
    ...Object.fromEntries(
      Object.entries(partFlags).map(([name, value]) => [name, { type: 'string' as const, default: value }]),
    ),
    only: { type: 'string', default: benchParts.map((p) => p.name).join(',') },
    out: { type: 'string', default: fileURLToPath(new URL('./results/latest.json', import.meta.url)) },
    // A Redis Cluster of three masters of the bench's own (REDIS_URL=redis+cluster://… names one already running).
    cluster: { type: 'boolean', default: false },
  },
});
const flagValues = values as unknown as Record<string, string | undefined>;
const only = new Set(values.only!.split(','));
const unknown = [...only].filter((name) => !benchParts.some((p) => p.name === name));
if (unknown.length)
  throw new Error(`--only: no part named ${unknown.join(', ')}; parts: ${benchParts.map((p) => p.name).join(', ')}`);
const int = (flag: string, min = 1) => {
  const value = Number(flagValues[flag]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${flag} must be a whole number of at least ${min}`);
  return value;
};
const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const started = Date.now();
const base = randomPrefix();
const logDir = tmpdir();
const cluster = values.cluster ? await startRedisCluster() : undefined;
const redisUrl = cluster?.url ?? defaultRedisUrl;
if (cluster) progress(`Redis Cluster of 3 masters started: ${redisUrl}`);
const redis = connectRedis(redisUrl);
const sandbox = await startSandboxServer();
let machine = machineFacts(await redisVersion(redis));
const tracked = new Set<string>();
// Ctrl-C: stop bridge processes, delete every prefix the parts used, exit 130.
process.once('SIGINT', () => {
  progress('interrupted: stopping, then deleting the bench keys');
  void stopChildBridges()
    .then(() => Promise.all([...tracked].map((p) => deletePrefix(redis, p))))
    .then(() => cluster?.stop())
    .finally(() => process.exit(130));
});

const selected = benchParts.filter((p) => only.has(p.name));
let run: PartsRun;
try {
  run = await runParts(
    selected,
    {
      redis,
      redisUrl,
      base,
      logDir,
      serviceUrl: sandbox.serviceUrl,
      sandbox: sandbox.sandbox,
      int,
      progress,
      track: (prefix) => {
        tracked.add(prefix);
        return prefix;
      },
    },
    // A failed part may leave bridge processes behind: they would load the parts after it.
    { afterFailure: stopChildBridges },
  );
} finally {
  await sandbox.close();
  redis.disconnect();
  await cluster?.stop();
}

const durationMs = Date.now() - started;
machine = finishFacts(machine);
const { checks, details } = reportOf(selected, run);
process.stdout.write(`${render(machine, checks, details, durationMs)}\n`);
await writeJson(values.out!, {
  generatedAt: new Date().toISOString(),
  durationMs,
  machine,
  params: {
    ...Object.fromEntries(Object.keys(partFlags).map((f) => [f, flagValues[f]])),
    redisUrl: redisUrl.replace(/\/\/[^@]*@/, '//***@'),
  },
  checks,
  results: Object.fromEntries(Object.entries(run.outcomes).map(([name, o]) => [name, o.result])),
  failures: run.failures,
});
progress(`wrote ${values.out}; bridge logs in ${logDir}/${base}-*.log`);
if (run.failures.length > 0) {
  progress(`${run.failures.length} part(s) failed: ${run.failures.map((f) => f.part).join(', ')}`);
  process.exitCode = 1;
}
