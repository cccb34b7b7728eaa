import { QueueEvents, type Job } from 'bullmq';
import { agentQueueName, createExampleAgent, type AgentResult, type AgentTask } from '../../examples/agent-worker.js';
import type { LocalMessage } from '../../adapters/local/local-platform.js';
import { startPrivateRedis } from './private-redis.js';
import type { TestBridge } from './test-bridge.js';
import { waitFor } from './wait.js';

/**
 * The example agent worker for a test bridge, the way agents run: its queue on a redis-server
 * of its own (not the bridge's), the bridge reached over HTTP only (the operator token, acting
 * for each task's agent).
 */
export async function startTestAgent(bridge: TestBridge) {
  const redis = await startPrivateRedis();
  const connection = redis.connect();
  const prefix = 'agent';
  const agent = createExampleAgent({ connection, prefix, client: bridge.api, asAdmin: true });
  const events = new QueueEvents(agentQueueName, { connection, prefix }); // it duplicates and closes its own copy
  await events.waitUntilReady();
  return {
    ...agent,
    events,
    /** Queues a task that logs in to one of the bridge's sandboxes (default /sandbox) from `thread`. */
    async run(
      thread: string,
      approvers: string[] = ['alice'],
      agentId = 'agent-test',
      service = `${bridge.url}/sandbox`,
      extra: Partial<AgentTask> = {},
    ): Promise<Job<AgentTask, AgentResult>> {
      return agent.queue.add('task', { service, thread, approvers, agentId, ...extra }) as Promise<
        Job<AgentTask, AgentResult>
      >;
    },
    /** The agent's own Redis. */
    redis,
    async close() {
      await events.close();
      await agent.close();
      await redis.stop();
    },
  };
}

/** Waits for the approval request in a local thread; returns it with the link it carries. */
export async function approvalIn(
  bridge: TestBridge,
  thread: string,
): Promise<{ message: LocalMessage; url: string; handoffId: string }> {
  const message = await waitFor(`approval request in ${thread}`, async () =>
    (await bridge.messages(thread)).find((m) => m.kind === 'bot' && /\/sandbox\/authorize\//.test(m.text)),
  );
  const url = /https?:\/\/\S+\/sandbox\/authorize\/\S+/.exec(message.text)![0];
  const handoffId = /\(handoff (hf_[0-9a-f]+)\)/.exec(message.text)![1]!;
  return { message, url, handoffId };
}

/** Bot messages in a thread, newest last. */
export async function botTexts(bridge: TestBridge, thread: string): Promise<string[]> {
  return (await bridge.messages(thread)).filter((m) => m.kind === 'bot').map((m) => m.text);
}

/**
 * The `nth` approval request (1-based) posted in a local thread, whatever the protocol:
 * its text, the link after "Approve here:" (or "Service:"), and its handoff id.
 */
export async function requestIn(
  bridge: TestBridge,
  thread: string,
  nth = 1,
  timeoutMs = 15_000,
): Promise<{ text: string; url: string; handoffId: string }> {
  const message = await waitFor(
    `approval request #${nth} in ${thread}`,
    async () =>
      (await bridge.messages(thread)).filter(
        (m) => m.kind === 'bot' && /^(?:Approve here|Service): https?:\/\//m.test(m.text),
      )[nth - 1],
    timeoutMs,
  );
  const url = /^(?:Approve here|Service): (https?:\/\/\S+)/m.exec(message.text)![1]!;
  // The last line names the handoff (a re-opened one names its predecessor earlier on).
  const handoffId = /\(handoff (hf_[0-9a-f]+)\)\s*$/.exec(message.text)![1]!;
  return { text: message.text, url, handoffId };
}
