import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffView } from '../../src/core/wire.js';
import { createKeys } from '../../src/store/keys.js';
import type { Redis } from '../../src/store/redis.js';
import { redisUrl as suiteRedisUrl } from '../helpers/environment.js';
import {
  freePort,
  handoffBin,
  spawnLogged,
  stopAllProcesses,
  waitForHealth,
  type LoggedProcess,
} from '../helpers/processes.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { connectTestRedis } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #16 item 7, small: two servers (this process, with the sandbox service, and a
 * `HANDOFF_ROLE=server` process) and two `handoff worker` processes on one Redis and one
 * prefix. Handoffs are created and answered through both servers; one worker is SIGKILLed
 * while replies are being handled. Every handoff must end completed exactly once: one
 * `handoff.completed` in the audit, one entry in the agent's feed, one token exchange at the
 * service, one credential. Then the same on a Redis Cluster of three masters of this file's
 * own (item 6), with fewer handoffs.
 */
const agentId = 'multi-process';
// A killed worker's jobs are found stalled and run again within about twice this.
const jobLockMs = '5000';

describe.each([
  { redis: 'one Redis', count: 200, cluster: false },
  { redis: 'a Redis Cluster of three masters', count: 100, cluster: true },
])('two servers and two workers on $redis, one worker SIGKILLed mid-run', ({ count, cluster: onCluster }) => {
  let cluster: RedisCluster | undefined;
  let redisUrl = suiteRedisUrl;
  let bridge: TestBridge;
  let otherServer: string;
  const workers: LoggedProcess[] = [];

  beforeAll(async () => {
    if (onCluster) {
      cluster = await startRedisCluster();
      redisUrl = cluster.url;
    }
    const env = { HANDOFF_ROLE: 'server', HANDOFF_POLL_INTERVAL_MS: '3600000', HANDOFF_JOB_LOCK_MS: jobLockMs };
    bridge = await startTestBridge('multi', { env, ...(cluster ? { redisUrl } : {}) });
    const shared = {
      REDIS_URL: redisUrl,
      HANDOFF_PREFIX: bridge.prefix,
      HANDOFF_VAULT_KEY: bridge.vaultKey.toString('base64'),
      HANDOFF_API_TOKEN: bridge.apiToken,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...env,
    };
    const port = await freePort();
    const server = spawnLogged('multi-server-2', [handoffBin, 'serve'], {
      ...shared,
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    otherServer = `http://127.0.0.1:${port}`;
    for (const n of [1, 2]) workers.push(spawnLogged(`multi-worker-${n}`, [handoffBin, 'worker'], shared));
    await waitForHealth(otherServer, server);
  }, 60_000);
  afterAll(async () => {
    await stopAllProcesses();
    await bridge?.close();
    await cluster?.stop();
  });

  const servers = () => [bridge.url, otherServer];
  const serverFor = (i: number) => servers()[i % 2]!;

  async function createOn(server: string, thread: string): Promise<string> {
    const res = await fetch(`${server}/v1/handoffs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bridge.apiToken}` },
      body: JSON.stringify({ service: `${bridge.url}/sandbox`, thread, approvers: ['alice'], agent: { id: agentId } }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  async function viewOn(server: string, id: string): Promise<HandoffView> {
    const res = await fetch(`${server}/v1/handoffs/${id}`, { headers: { authorization: `Bearer ${bridge.apiToken}` } });
    return (await res.json()) as HandoffView;
  }

  async function replyOn(server: string, thread: string, code: string): Promise<number> {
    const res = await fetch(
      `${server}/v1/threads/local/${encodeURIComponent(thread.replace(/^local:/, ''))}/messages`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ author: 'alice', text: `the code: ${code}` }),
      },
    );
    return res.status;
  }

  it(
    'ends every handoff exactly once: none doubled, none stuck; only exchanges cut by the kill are lost',
    { timeout: 120_000 },
    async () => {
      const threads = Array.from({ length: count }, () => freshThread('multi'));
      const ids = await Promise.all(threads.map((thread, i) => createOn(serverFor(i), thread)));
      const views = await waitFor(
        `all ${count} waiting for a human`,
        async () => {
          const all = await Promise.all(ids.map((id, i) => viewOn(serverFor(i + 1), id)));
          return all.every((v) => v.status === 'awaiting_human') && all;
        },
        60_000,
      );
      const codes = await Promise.all(views.map((v) => bridge.approve(v.approvalUrl!)));

      const redis: Redis = cluster ? cluster.connect() : connectTestRedis();
      const keys = createKeys(bridge.prefix);
      const feedKey = keys.agentFeed(agentId);
      try {
        // Replies go out through both servers; one worker dies once a third of the handoffs ended.
        const replies = Promise.all(threads.map((thread, i) => replyOn(serverFor(i + 1), thread, codes[i]!)));
        const endedAtKill = await waitFor('a third ended', async () => {
          const ended = await redis.xlen(feedKey);
          return ended >= count / 3 && ended;
        });
        workers[0]!.child.kill('SIGKILL');
        expect((await workers[0]!.waitForExit(10_000)).signal).toBe('SIGKILL');
        expect(endedAtKill).toBeLessThan(count);
        expect((await replies).every((status) => status === 201)).toBe(true);
        await waitFor('every handoff ended', async () => (await redis.xlen(feedKey)) >= count, 60_000);

        const ended = await Promise.all(ids.map((id) => bridge.api.getHandoff(id)));
        const completed = ended.filter((v) => v.status === 'completed');
        const lost = ended.filter((v) => v.status !== 'completed');
        // The only loss allowed: an exchange the killed worker had sent and whose answer died with
        // it (the service's exchange is single-use). Each fails visibly, and only jobs that worker
        // held at once can be among them.
        expect(lost.map((v) => v.error?.code)).toEqual(lost.map(() => 'exchange_lost'));
        expect(lost.length).toBeLessThanOrEqual(32);
        // One token exchange per login at the service: no credential issued twice, none skipped.
        const requestIds = views.map((v) => v.approvalUrl!.split('/').pop()!);
        expect(requestIds.map((r) => bridge.sandbox!.state.successfulExchanges.get(r))).toEqual(
          requestIds.map(() => 1),
        );
        // One credential per completed handoff, none shared.
        expect(new Set(completed.map((v) => v.credential?.id)).size).toBe(completed.length);

        // One ending per handoff in the audit and in the agent's feed.
        const tally = (rows: Array<[string, string[]]>, field: string, only?: (f: string[]) => boolean) => {
          const counts = new Map<string, number>();
          for (const [, fields] of rows) {
            if (only && !only(fields)) continue;
            const id = fields[fields.indexOf(field) + 1]!;
            counts.set(id, (counts.get(id) ?? 0) + 1);
          }
          return counts;
        };
        const audit = tally(await redis.xrange(keys.audit(), '-', '+'), 'handoffId', (f) =>
          ['handoff.completed', 'handoff.failed'].includes(f[f.indexOf('event') + 1]!),
        );
        const feed = tally(await redis.xrange(feedKey, '-', '+'), 'h');
        // Exactly one audit ending per handoff, killed worker included: the transition's script
        // writes the ending, its feed entry and its audit entry together.
        expect(ids.filter((id) => audit.get(id) !== 1)).toEqual([]);
        expect(ids.map((id) => feed.get(id))).toEqual(ids.map(() => 1));
        expect(feed.size).toBe(count);
      } finally {
        redis.disconnect();
      }
    },
  );
});
