import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandboxServer } from './sandbox-server.js';
import { connectRedis, deletePrefix, randomPrefix, redisUrl } from './redis-tools.js';
import { measureWaitingMemory } from './waiting-memory.js';
const prefix = randomPrefix();
const redis = connectRedis();
const sandbox = await startSandboxServer();
const t = Date.now();
try {
  const r = await measureWaitingMemory({ redis, redisUrl, prefix, serviceUrl: sandbox.serviceUrl, waiting: Number(process.argv[2] ?? 1000), warmup: 200, logFile: join(tmpdir(), `${prefix}-child.log`) });
  console.log(JSON.stringify(r, null, 1), Date.now() - t);
} finally {
  await sandbox.close();
  console.log('deleted', await deletePrefix(redis, prefix));
  redis.disconnect();
}
