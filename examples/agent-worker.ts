/**
 * An agent worker that needs a human's login, written the way an agent author would.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 HANDOFF_URL=http://127.0.0.1:8080 \
 *     node --import tsx examples/agent-worker.ts --service http://127.0.0.1:8080/sandbox --thread local:demo
 *
 * It enqueues one task and runs it. The task calls requireLogin(): the job parks (no worker
 * slot held) until a human approves in the thread, then resumes, calls the service's
 * /api/me with the credential, and prints the answer.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { createBridgeClient, type BridgeClient } from '../src/client/bridge-client.js';
import { requireLogin } from '../src/client/require-login.js';

export interface AgentTask {
  readonly service: string;
  readonly thread: string;
  readonly approvers?: readonly string[];
  readonly agentId: string;
  /** How long the human has to answer, ms (the bridge's default when absent). */
  readonly expiresInMs?: number;
  /** For services that email the approver a code (auth.md verified email). */
  readonly approverEmail?: string;
}

export interface AgentResult {
  /** HTTP status of GET <service>/api/me with the credential. */
  readonly status: number;
  readonly me: unknown;
  readonly handoffId: string;
}

export const agentQueueName = 'agent-tasks';

/** The worker: one login per task, then one authenticated call. */
export function createExampleAgent(options: { connection: ConnectionOptions; prefix: string; client: BridgeClient }) {
  let resumed = 0;
  const worker = new Worker<AgentTask & Record<string, unknown>, AgentResult>(
    agentQueueName,
    async (job, token) => {
      const login = await requireLogin(
        job,
        token,
        {
          service: job.data.service,
          thread: job.data.thread,
          approvers: [...(job.data.approvers ?? [])],
          agent: { id: job.data.agentId, correlationId: `task-${job.id}` },
          ...(job.data.expiresInMs ? { expiresInMs: job.data.expiresInMs } : {}),
          ...(job.data.approverEmail ? { approverEmail: job.data.approverEmail } : {}),
        },
        { client: options.client },
      );
      resumed += 1;
      const res = await fetch(`${job.data.service}/api/me`, {
        headers: { authorization: `Bearer ${await login.accessToken()}`, 'x-agent-id': job.data.agentId },
      });
      return { status: res.status, me: await res.json(), handoffId: login.handoffId };
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 50 },
  );
  const queue = new Queue<AgentTask>(agentQueueName, { connection: options.connection, prefix: options.prefix });
  return {
    worker,
    queue,
    /** How many times a task got past requireLogin (i.e. resumed with a credential). */
    resumedCount: () => resumed,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string' },
      thread: { type: 'string', default: 'local:demo' },
      approver: { type: 'string', multiple: true },
      'agent-id': { type: 'string', default: 'example-agent' },
    },
  });
  if (!values.service) {
    process.stderr.write('usage: examples/agent-worker.ts --service URL [--thread REF] [--approver ID]\n');
    return 2;
  }
  const baseUrl = process.env.HANDOFF_URL ?? 'http://127.0.0.1:8080';
  const apiToken = process.env.HANDOFF_API_TOKEN ?? (await readFile('.handoff/api-token', 'utf8')).trim();
  const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const prefix = process.env.AGENT_QUEUE_PREFIX ?? 'agent';
  const agent = createExampleAgent({ connection, prefix, client: createBridgeClient({ baseUrl, apiToken, allowInsecureUrl: process.env.HANDOFF_ALLOW_INSECURE_URL === 'true' }) });
  // QueueEvents duplicates the connection it is given (and closes its copy); passing our own
  // duplicate would leave an extra socket open and the process would never exit.
  const events = new QueueEvents(agentQueueName, { connection, prefix });
  const job = await agent.queue.add('task', {
    service: values.service,
    thread: values.thread!,
    approvers: values.approver ?? [],
    agentId: values['agent-id']!,
  });
  process.stderr.write(`agent task ${job.id} queued; it will ask for a login in ${values.thread}\n`);
  try {
    const result = await job.waitUntilFinished(events);
    process.stdout.write(`${JSON.stringify({ resumed: true, ...result })}\n`);
    return result.status === 200 ? 0 : 1;
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ resumed: false, error: (err as Error).message })}\n`);
    return 1;
  } finally {
    await events.close();
    await agent.close();
    connection.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
