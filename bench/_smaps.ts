import { readFile } from 'node:fs/promises';
import { startChildBridge } from './child-bridge.js';
import { startSandboxServer } from './sandbox-server.js';
import { connectRedis, deletePrefix, randomPrefix, redisUrl } from './redis-tools.js';
import { createWaiting } from './waiting-load.js';
const prefix = randomPrefix();
const redis = connectRedis();
const sandbox = await startSandboxServer();
const bridge = await startChildBridge({ prefix, redisUrl, logFile: '/tmp/smaps-bridge.log' });
async function smaps(label: string) {
  const text = await readFile(`/proc/${bridge.pid}/smaps`, 'utf8');
  const blocks = text.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  const rows = blocks.map((b) => { const head = b.split('\n')[0]!; const rss = Number(/^Rss:\s+(\d+)/m.exec(b)?.[1] ?? 0); const parts = head.trim().split(/\s+/); const [s,e] = parts[0]!.split('-').map((x) => parseInt(x, 16)); return { name: parts[5] ?? '[anon]', rss, size: ((e! - s!) / 1024) }; });
  const byName = new Map<string, number>();
  for (const r of rows) byName.set(r.name, (byName.get(r.name) ?? 0) + r.rss);
  const anon = rows.filter((r) => r.name === '[anon]').sort((a, b) => b.rss - a.rss).slice(0, 8).map((r) => `${r.rss}/${r.size}`);
  console.log(label, [...byName].sort((a, b) => b[1] - a[1]).slice(0, 6), 'top anon rss/size kB', anon.join(' '), await bridge.memory());
}
try {
  await smaps('start');
  for (const step of [1, 2, 3]) {
    await createWaiting({ client: bridge.client, redis, prefix, serviceUrl: sandbox.serviceUrl, count: 4000, label: `s${step}`, already: (step - 1) * 4000 });
    await new Promise((r) => setTimeout(r, 2000));
    await smaps(`after ${step * 4000}`);
  }
} finally {
  await bridge.stop();
  await sandbox.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
}
