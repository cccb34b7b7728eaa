import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import { createExampleAgent, agentQueueName } from '../../examples/agent-worker.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

describe('an agent job blocked on a login resumes after the human answers (real Redis, real BullMQ)', () => {
  let bridge: TestBridge;
  let agentRedis: PrivateRedis;
  let agent: ReturnType<typeof createExampleAgent>;
  let events: QueueEvents;

  beforeAll(async () => {
    bridge = await startTestBridge('agent-flow');
    // The agent's queue is on a redis-server of its own: it reaches the bridge over HTTP only.
    agentRedis = await startPrivateRedis();
    agent = createExampleAgent({
      connection: agentRedis.connect(),
      prefix: 'agent',
      client: bridge.api,
      asAdmin: true,
    });
    events = new QueueEvents(agentQueueName, { connection: agentRedis.connect(), prefix: 'agent' });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events.close();
    await agent.close();
    await bridge.close();
    await agentRedis.stop();
  });

  it('parks as a delayed job on its own Redis, resumes with a working credential that the service accepts', async () => {
    const thread = freshThread('flow');
    const job = await agent.queue.add('task', {
      service: `${bridge.url}/sandbox`,
      thread,
      approvers: ['alice'],
      agentId: 'agent-7',
    });

    // The approval request appears in the thread and the agent job waits without a worker slot.
    const approval = await waitFor('approval message', async () =>
      (await bridge.messages(thread)).find((m) => m.kind === 'bot' && m.text.includes('/sandbox/authorize/')),
    );
    await waitFor('agent job parked', async () => (await job.getState()) === 'delayed');
    expect(approval.text).toContain('Only alice may answer.');

    const url = /http:\/\/\S+\/sandbox\/authorize\/\S+/.exec(approval.text)![0];
    const code = await bridge.approve(url, 'alice@example.com');
    const posted = await bridge.reply(thread, 'alice', `Agent Analytics finish code: \`${code}\`.`);
    expect(posted.status).toBe(201);

    const result = await job.waitUntilFinished(events, 20_000);
    expect(result.status).toBe(200);
    expect(result.me).toMatchObject({ account: { email: 'alice@example.com' }, agent_id: 'agent-7' });
    expect(agent.resumedCount()).toBe(1);

    const record = await bridge.api.getHandoff(result.handoffId);
    expect(record.status).toBe('completed');
    expect(record.credential?.id).toMatch(/^cr_/);

    // The thread tells the story: request, the human's (masked) paste, success.
    await waitFor('the success notice', async () =>
      (await bridge.messages(thread)).some((m) => m.text.startsWith('✅ Logged in to')),
    );
    const texts = (await bridge.messages(thread)).map((m) => m.text);
    expect(texts.join('\n')).not.toContain(code);

    // Every step is audited with the agent and correlation ids.
    const audit = await bridge.bridge.engine.audit.recent(50, result.handoffId);
    expect(audit.map((e) => e.event)).toEqual(
      expect.arrayContaining([
        'handoff.created',
        'handoff.awaiting_human',
        'reply.accepted',
        'handoff.completed',
        'credential.retrieved',
      ]),
    );
    expect(audit.every((e) => e.agentId === 'agent-7' && e.correlationId === `task-${job.id}`)).toBe(true);
  });
});
