/**
 * Run as a child process (test/integration/ending-bookkeeping.test.ts): ends one handoff
 * through the store's transition and SIGKILLs itself the moment the transition's script has
 * returned, before any JS that follows it runs. The hook is on the ioredis client's
 * `evalsha` (the library, not the bridge's code).
 *
 *   node --import tsx test/helpers/end-then-die.ts   (REDIS_URL, END_PREFIX, END_HANDOFF, END_AGENT, END_THREAD)
 */
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { createRedis } from '../../src/store/redis.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const redis = createRedis(env('REDIS_URL'));
const evalsha = redis.evalsha.bind(redis) as (...args: unknown[]) => Promise<unknown>;
(redis as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = async (...args) => {
  await evalsha(...args);
  process.kill(process.pid, 'SIGKILL');
  return new Promise(() => undefined);
};
const store = createHandoffStore({ redis, keys: createKeys(env('END_PREFIX')), now: Date.now });
await store.transition(env('END_HANDOFF'), {
  to: 'cancelled',
  agentId: env('END_AGENT'),
  thread: env('END_THREAD'),
  audit: { actor: 'tester' },
});
// Never reached: the process died with the script's answer.
process.stdout.write('survived\n');
redis.disconnect();
