import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/logger.ts';
import { startHandoff } from '../src/main.ts';
import { createBridgeClient } from '../src/client/bridge-client.ts';
const prefix = `mem-${randomBytes(4).toString('hex')}`;
const config = loadConfig({ PORT: '0', HANDOFF_PREFIX: prefix, HANDOFF_POLL_INTERVAL_MS: '600000' });
const apiToken = 'x'.repeat(32);
const { bridge } = await startHandoff(config, { redisUrl: 'redis://127.0.0.1:6379', vaultKey: randomBytes(32), apiToken, logger: silentLogger });
const api = createBridgeClient({ baseUrl: bridge.url!, apiToken });
const N = 1000;
const ids: string[] = [];
for (let i = 0; i < N; i += 50) {
  const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => api.createHandoff({ service: `${bridge.url}/sandbox`, thread: `local:m${i + j}`, agent: { id: 'mem' } })));
  ids.push(...batch.map((b) => b.id));
}
for (;;) {
  const c = await bridge.queues.handoffs.getJobCounts('delayed');
  const o = await bridge.queues.outbound('local').getJobCounts('wait','active','delayed');
  if (c.delayed >= N && o.wait + o.active + o.delayed === 0) break;
  await new Promise((r) => setTimeout(r, 200));
}
await new Promise((r) => setTimeout(r, 1000));
const redis = new Redis('redis://127.0.0.1:6379');
const groups = new Map<string, { n: number; bytes: number }>();
let cursor = '0';
do {
  const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
  cursor = next;
  for (const k of keys) {
    const bytes = Number(await redis.memory('USAGE', k, 'SAMPLES', '0'));
    const g = k.slice(prefix.length + 1).replace(/hf_[0-9a-f]+|\d+$|in-[0-9a-f]+|out-[0-9a-f]+|m\d+(\.[0-9a-f]+)?/g, '*');
    const e = groups.get(g) ?? { n: 0, bytes: 0 };
    e.n++; e.bytes += bytes; groups.set(g, e);
  }
} while (cursor !== '0');
let total = 0;
for (const [g, e] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes)) { total += e.bytes; console.log(g.padEnd(45), String(e.n).padStart(6), (e.bytes / N).toFixed(0).padStart(7), 'B/handoff'); }
console.log('TOTAL per handoff', (total / N).toFixed(0));
const one = await redis.hgetall(`${prefix}:hf:${ids[0]}`); console.log(Object.keys(one).length, 'fields', JSON.stringify(one).length, 'chars');
const job = await redis.hgetall(`${prefix}:q:handoffs:${ids[0]}`); console.log('job', JSON.stringify(job));
console.log('encodings', await redis.object('ENCODING', `${prefix}:hf:${ids[0]}`), await redis.object('ENCODING', `${prefix}:q:handoffs:${ids[0]}`));
await bridge.close();
let c2 = '0'; do { const [n, ks] = await redis.scan(c2, 'MATCH', `${prefix}:*`, 'COUNT', 1000); c2 = n; if (ks.length) await redis.del(...ks); } while (c2 !== '0');
redis.disconnect();
