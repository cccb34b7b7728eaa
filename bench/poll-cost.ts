/**
 * An extra, not part of `npm run bench`: what waiting handoffs cost in CPU when the bridge
 * polls the service in the background (HANDOFF_POLL_INTERVAL_MS, default 10 s), measured on
 * a bridge process of its own over a quiet window.
 *
 *   node --import tsx bench/poll-cost.ts [--waiting 5000] [--interval 10000] [--seconds 20]
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startChildBridge } from './child-bridge.js';
import { connectRedis, deletePrefix, randomPrefix, redisUrl } from './redis-tools.js';
import { startSandboxServer } from './sandbox-server.js';
import { createWaiting } from './waiting-load.js';

const { values } = parseArgs({
  options: {
    waiting: { type: 'string', default: '5000' },
    interval: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
  },
});
const waiting = Number(values.waiting);
const seconds = Number(values.seconds);

/** CPU time a process has used, ms (utime + stime from /proc, in clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const prefix = randomPrefix('bench-poll');
const redis = connectRedis();
const sandbox = await startSandboxServer();
const bridge = await startChildBridge({
  prefix,
  redisUrl,
  logFile: join(tmpdir(), `${prefix}-bridge.log`),
  env: { HANDOFF_POLL_INTERVAL_MS: values.interval! },
});
try {
  await createWaiting({
    client: bridge.client,
    redis,
    prefix,
    serviceUrl: sandbox.serviceUrl,
    count: waiting,
    label: 'poll',
  });
  const cpu0 = await cpuMs(bridge.pid);
  const t0 = Date.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const share = (await cpuMs(bridge.pid)) - cpu0;
  const elapsed = Date.now() - t0;
  const pollsPerSecond = (waiting * 1000) / Number(values.interval);
  process.stdout.write(
    `${waiting} waiting, poll every ${values.interval} ms (≈${Math.round(pollsPerSecond)} polls/s): ` +
      `bridge used ${((share / elapsed) * 100).toFixed(1)}% of one core over ${Math.round(elapsed / 1000)} s ` +
      `(≈${(((share / elapsed) * 1000) / pollsPerSecond).toFixed(2)} ms CPU per poll)\n`,
  );
} finally {
  await bridge.stop();
  await sandbox.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
}
