/**
 * Run as a child process (test/integration/approval-ending-audit.test.ts): casts one vote
 * through the store's vote script (src/store/approval-votes.ts) and SIGKILLs itself the moment
 * the script has returned, before any of the JS that follows a settling vote runs.
 *
 *   node --import tsx test/helpers/vote-then-die.ts   (REDIS_URL, VOTE_PREFIX, VOTE_HANDOFF, VOTE_AGENT, VOTE_VOTER)
 */
import { createApprovalVotes } from '../../src/store/approval-votes.js';
import { createKeys } from '../../src/store/keys.js';
import { createRedis } from '../../src/store/redis.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const redis = createRedis(env('REDIS_URL'));
const votes = createApprovalVotes({
  redis,
  keys: createKeys(env('VOTE_PREFIX')),
  retentionMs: 60_000,
  ended: async () => {
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => undefined);
  },
});
const result = await votes.vote({
  handoffId: env('VOTE_HANDOFF'),
  agentId: env('VOTE_AGENT'),
  voter: env('VOTE_VOTER'),
  choice: { vote: 'approve' },
  now: Date.now(),
});
// Only a vote that did not settle gets here.
process.stdout.write(`${result.kind}\n`);
redis.disconnect();
