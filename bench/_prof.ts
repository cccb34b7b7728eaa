import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { startBenchAgent } from './bench-agent.js';
import { startInprocBridge } from './inproc-bridge.js';
import { startSandboxServer } from './sandbox-server.js';
import { connectRedis, deletePrefix, randomPrefix, redisUrl } from './redis-tools.js';
import { prepare, reply } from './human.js';
const prefix = randomPrefix();
const redis = connectRedis();
const sandbox = await startSandboxServer();
const bridge = await startInprocBridge({ prefix, redisUrl, logFile: `/tmp/${prefix}.log` });
const agent = startBenchAgent({ connection: redis, prefix: `${prefix}:agent`, client: bridge.client });
const players = { agent, client: bridge.client, bridgeUrl: bridge.url, serviceUrl: sandbox.serviceUrl };
const session = new Session(); session.connect();
await session.post('Profiler.enable');
try {
  for (let round = 0; round < 6; round++) {
    const ready = await prepare(players, 100, `p${round}`);
    if (round > 0) await session.post('Profiler.start');
    const t = Date.now();
    const resumes = ready.map((h) => agent.resumed(h.tag));
    await Promise.all(ready.map((h) => reply(players, h)));
    const tr = Date.now();
    const r = await Promise.all(resumes);
    console.log('round', round, 'replies posted in', tr - t, 'ms; all resumed at', Math.max(...r) - t, 'ms; first resume', Math.min(...r) - t);
    if (round > 0) { const { profile } = await session.post('Profiler.stop'); writeFileSync(`/tmp/prof/window-${round}.cpuprofile`, JSON.stringify(profile)); }
  }
} finally {
  await agent.close(); await bridge.close(); await sandbox.close(); await deletePrefix(redis, prefix); redis.disconnect();
}
