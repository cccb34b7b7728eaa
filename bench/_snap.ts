import { connectRedis, prefixMemory, usedMemory } from './redis-tools.js';
const prefix = process.argv[2]!;
const redis = connectRedis();
const used = await usedMemory(redis);
const delayed = await redis.zcard(`${prefix}:q:handoffs:delayed`);
const mem = await prefixMemory(redis, prefix);
const hf = mem.byKind['hf:<id>']?.keys ?? 0;
console.log(
  JSON.stringify({
    at: new Date().toISOString(),
    used,
    delayed,
    hf,
    keys: mem.keys,
    bytes: mem.bytes,
    perHf: mem.bytes / hf,
  }),
);
for (const [k, v] of Object.entries(mem.byKind).sort((a, b) => b[1].bytes - a[1].bytes))
  console.log(k, v.keys, v.bytes, Math.round(v.bytes / hf));
redis.disconnect();
