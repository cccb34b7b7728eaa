import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import { createExampleAgent, agentQueueName } from '../../examples/agent-worker.js';
import { rekeyVault } from '../../src/app/vault-rekey.js';
import { createVault } from '../../src/store/vault.js';
import { hashTags, createKeys } from '../../src/store/keys.js';
import { queueKey, queueNames } from '../../src/queue/queue-names.js';
import { connectRedis, mastersOf, type Redis } from '../../src/store/redis.js';
import { createTestAgent } from '../helpers/agents.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The bridge on a real Redis Cluster (issue #16): three masters started for this file, the
 * bridge's REDIS_URL `redis+cluster://…`. The core flows run end to end on it — a login
 * through the sandbox service finished by a reply in a local thread and resumed through the
 * agent feed, an approval, a cancel, an expiry, a restart with a handoff waiting — and the keys
 * land where docs/operations.md says (each tag group in one slot, the queues spread).
 */
describe('the bridge on a Redis Cluster of three masters', () => {
  let cluster: RedisCluster;
  let redis: Redis;
  let bridge: TestBridge;
  const shared = {
    prefix: randomPrefix('cluster'),
    vaultKey: randomBytes(32),
    apiToken: `t-${randomBytes(12).toString('hex')}`,
  };
  const start = (name: string) => startTestBridge(name, { ...shared, redisUrl: cluster.url });
  const status = async (b: TestBridge, id: string) => (await b.api.getHandoff(id)).status;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = cluster.connect();
    bridge = await start('cluster-1');
  }, 60_000);

  afterAll(async () => {
    await bridge?.close();
    await cluster?.stop();
  });

  it('a login: the agent job parks, the human approves on the service and replies in the thread, the job resumes with a working credential', async () => {
    const agentRedis: PrivateRedis = await startPrivateRedis();
    const agent = createExampleAgent({
      connection: agentRedis.connect(),
      prefix: 'agent',
      client: bridge.api,
      asAdmin: true,
    });
    const events = new QueueEvents(agentQueueName, { connection: agentRedis.connect(), prefix: 'agent' });
    try {
      await events.waitUntilReady();
      const thread = freshThread('cl-login');
      const job = await agent.queue.add('task', {
        service: `${bridge.url}/sandbox`,
        thread,
        approvers: ['alice'],
        agentId: 'cl-agent',
      });
      const approval = await waitFor('the approval link in the thread', async () =>
        (await bridge.messages(thread)).find((m) => m.kind === 'bot' && m.text.includes('/sandbox/authorize/')),
      );
      await waitFor('the agent job parked', async () => (await job.getState()) === 'delayed');
      const code = await bridge.approve(/http:\/\/\S+\/sandbox\/authorize\/\S+/.exec(approval.text)![0]);
      expect((await bridge.reply(thread, 'alice', `finish code: \`${code}\``)).status).toBe(201);

      const result = await job.waitUntilFinished(events, 30_000);
      expect(result.status).toBe(200);
      expect(result.me).toMatchObject({ account: { email: 'alice@example.com' }, agent_id: 'cl-agent' });
      expect(agent.resumedCount()).toBe(1);
      const view = await bridge.api.getHandoff(result.handoffId);
      expect(view.status).toBe('completed');
      expect(view.credential?.id).toMatch(/^cr_/);
      const audit = await bridge.bridge.engine.audit.recent(50, result.handoffId);
      expect(audit.map((e) => e.event)).toEqual(expect.arrayContaining(['handoff.completed', 'credential.retrieved']));
    } finally {
      await events.close();
      await agent.close();
      await agentRedis.stop();
    }
  });

  it('an approval asked by an API-managed agent is decided by a reply, and its ending reaches the agent feed', async () => {
    const agent = await createTestAgent(bridge, 'cl-approver');
    const thread = freshThread('cl-ap');
    const asked = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread,
      action: { title: 'Rotate the keys' },
    });
    expect(asked.status).toBe(201);
    const id = (asked.body as { id: string }).id;
    await waitFor(
      'the request in the thread',
      async () => (await bridge.messages(thread)).some((m) => m.kind === 'bot' && m.text.startsWith('🛂')) || undefined,
    );
    await bridge.reply(thread, 'carol', 'approve');
    const done = await waitFor('the decision', async () => {
      const v = (await agent.call('GET', `/v1/handoffs/${id}`)).body as { status: string; decision: unknown };
      return v.status === 'completed' ? v : undefined;
    });
    expect(done.decision).toMatchObject({ outcome: 'approved', by: [{ who: 'carol' }] });
    const feed = await agent.call('GET', '/v1/events?waitMs=0');
    expect((feed.body as { events: { handoffId: string; status: string }[] }).events).toEqual([
      expect.objectContaining({ handoffId: id, status: 'completed' }),
    ]);
  });

  it('a cancel and an expiry each end their handoff, and the cancelled one stays cancelled', async () => {
    const thread = freshThread('cl-end');
    const service = `${bridge.url}/sandbox`;
    const cancelled = await bridge.api.createHandoff({ service, thread, agent: { id: 'cl-ender' } });
    const expiring = await bridge.api.createHandoff({ service, thread, agent: { id: 'cl-ender' }, expiresInMs: 1_500 });
    await waitFor(
      'both waiting',
      async () =>
        (await status(bridge, cancelled.id)) === 'awaiting_human' &&
        (await status(bridge, expiring.id)) === 'awaiting_human',
    );
    await bridge.api.cancelHandoff(cancelled.id);
    expect(await status(bridge, cancelled.id)).toBe('cancelled');
    await waitFor('the expiry', async () => (await status(bridge, expiring.id)) === 'expired', 20_000);
    expect(await status(bridge, cancelled.id)).toBe('cancelled');
  });

  it('a restart: a handoff waiting under one bridge completes under the next, on the same cluster', async () => {
    // The service outlives the bridge (the sandbox mounted in a bridge would go with it).
    const service = await startSandboxServer();
    try {
      const thread = freshThread('cl-rst');
      const created = await bridge.api.createHandoff({ service: service.url, thread, agent: { id: 'cl-rst' } });
      const approval = await waitFor('the approval link', async () =>
        (await bridge.messages(thread)).find((m) => m.kind === 'bot' && m.text.includes('/sandbox/authorize/')),
      );
      await bridge.bridge.close();
      bridge = await start('cluster-2');
      const code = await bridge.approve(/http:\/\/\S+\/sandbox\/authorize\/\S+/.exec(approval.text)![0]);
      await bridge.reply(thread, 'bob', `finish code: \`${code}\``);
      await waitFor(
        'completed under the new bridge',
        async () => (await status(bridge, created.id)) === 'completed',
        20_000,
      );
    } finally {
      await service.close();
    }
  });

  it('keys land where docs/operations.md says: each tag group in one slot, the queues spread, SCAN sees every master', async () => {
    const keys = createKeys(shared.prefix);
    const slot = async (key: string) => Number(await redis.cluster('KEYSLOT', key));
    const groups: Record<string, string[]> = {
      [hashTags.handoffs]: [
        keys.handoff('hf_x'),
        keys.agentFeed('a'),
        keys.threadHandoffs('local:t'),
        keys.seen('local', 'message', 'm'),
        keys.agentOpen('a'),
        keys.handoffIndex(),
      ],
      [hashTags.agents]: [keys.agent('a'), keys.agents(), keys.agentKeys(), keys.deadAgentKey('h')],
      [hashTags.credentials]: [
        keys.credential('c'),
        keys.credentials(),
        keys.credentialsByLastUse(),
        keys.credentialsRefreshDue(),
        keys.agentCredentials('a'),
      ],
      svc: [keys.serviceSlots('o'), keys.serviceBreaker('o'), keys.serviceWaiters('o')],
    };
    for (const [group, members] of Object.entries(groups)) {
      const slots = new Set(await Promise.all(members.map(slot)));
      expect(slots.size, `slots of ${group}`).toBe(1);
    }
    const queueSlots = new Set(
      await Promise.all(
        [queueNames.handoffs, queueNames.inbound, queueNames.credentials].map((q) =>
          slot(queueKey(keys.queuePrefix, q, 'wait')),
        ),
      ),
    );
    expect(queueSlots.size).toBe(3);

    // The vault's re-key visits every master: twenty entries more than the flows left, spread
    // over the three by name, and it counts each one.
    const vault = createVault({ redis, keys, key: shared.vaultKey });
    for (let i = 0; i < 20; i++) await vault.put('spread', `e${i}`, { n: i });
    const perMaster = await Promise.all(mastersOf(redis).map((node) => node.keys(keys.vault('*', '*'))));
    expect(perMaster.filter((k) => k.length > 0)).toHaveLength(3);
    const report = await rekeyVault({ redis, keys, vault, keyId: 'same' });
    expect(report.kinds.credentials.scanned).toBe(perMaster.flat().length);
    expect(report.kinds.credentials.unreadable).toBe(0);
  });

  it('refuses a cluster node named as a single server, and a malformed cluster URL, naming REDIS_URL', async () => {
    await expect(connectRedis(`redis://127.0.0.1:${cluster.ports[0]}`)).rejects.toThrow(
      /node of a Redis Cluster; name the cluster as redis\+cluster:/,
    );
    await expect(connectRedis('redis+cluster://127.0.0.1:99999')).rejects.toThrow(
      /REDIS_URL for a Redis Cluster must look like/,
    );
  });
});
