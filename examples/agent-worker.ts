/**
 * An agent worker that needs a human's login, written the way an agent author would. It needs
 * the bridge's URL and its own key, and a Redis of its own for its queue; it never connects to
 * the bridge's Redis.
 *
 *   REDIS_URL=redis://127.0.0.1:6380 HANDOFF_URL=http://127.0.0.1:8080 HANDOFF_AGENT_KEY=… \
 *     node --import tsx examples/agent-worker.ts --service http://127.0.0.1:8080/sandbox --thread local:demo
 *
 * It enqueues one task and runs it. The task calls requireLogin(): the job parks as a delayed
 * job (no worker slot held) until a human approves in the thread; the login resumer, following
 * the agent's feed of handoff endings on the bridge over HTTP, wakes it; it calls the service's
 * /api/me with the credential and prints the answer as one JSON line.
 *
 * Development defaults, so that `npm start` and this are all it takes: without REDIS_URL it
 * starts a private redis-server (data under $HANDOFF_DATA_DIR/agent/redis, default .handoff);
 * without HANDOFF_AGENT_KEY it uses the operator token (HANDOFF_API_TOKEN, or the
 * $HANDOFF_DATA_DIR/api-token that `npm start` writes) acting for --agent-id.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createBridgeClient, type BridgeClient } from '../src/client/bridge-client.js';
import { createLoginResumer, type LoginResumer } from '../src/client/login-resumer.js';
import { requireLogin } from '../src/client/require-login.js';
import type { ReuseMode } from '../src/core/wire.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../src/store/embedded-redis.js';

export interface AgentTask {
  readonly service: string;
  readonly thread: string;
  readonly approvers?: readonly string[];
  /** The agent to act for: needed with the operator token; with an agent key the key says who (leave it out). */
  readonly agentId?: string;
  /** How long the human has to answer, ms (the bridge's default when absent). */
  readonly expiresInMs?: number;
  /** For services that email the approver a code (auth.md verified email). */
  readonly approverEmail?: string;
  /**
   * Whether a standing grant may answer instead of a person. Default `never` here: this
   * example asks for each task (requireLogin's own default, `agent`, suits jobs that run
   * again and again: see scheduled-job.ts).
   */
  readonly reuse?: ReuseMode;
}

export interface AgentResult {
  /** HTTP status of GET <service>/api/me with the credential. */
  readonly status: number;
  readonly me: unknown;
  readonly handoffId: string;
}

export const agentQueueName = 'agent-tasks';

/**
 * The worker: one login per task, then one authenticated call. It runs the login resumer that
 * wakes its parked tasks. With an agent key (`asAdmin` false) that is one resumer following the
 * key's own feed; with the operator token (development) one per agent id a task names, each
 * following that agent's feed (`agentIds` start at once, so tasks parked before a restart wake).
 */
export function createExampleAgent(options: {
  connection: Redis;
  prefix: string;
  client: BridgeClient;
  /** The client holds the operator token and acts for each task's agent. Default false. */
  asAdmin?: boolean;
  /** Agents whose resumers start now (with `asAdmin`). */
  agentIds?: readonly string[];
}) {
  let resumed = 0;
  const resumers = new Map<string, LoginResumer>();
  const resumerFor = (agentId: string): LoginResumer => {
    const key = options.asAdmin ? agentId : '';
    let resumer = resumers.get(key);
    if (!resumer) {
      resumer = createLoginResumer({
        client: options.client,
        connection: options.connection,
        keyPrefix: options.asAdmin ? `${options.prefix}:resumer:${agentId}` : `${options.prefix}:resumer`,
        ...(options.asAdmin ? { agent: agentId } : {}),
        onError: (err) => process.stderr.write(`login resumer: ${(err as Error).message}\n`),
      });
      resumers.set(key, resumer);
      resumer.start();
    }
    return resumer;
  };
  for (const agentId of options.agentIds ?? []) resumerFor(agentId);

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
          agent: { ...(job.data.agentId ? { id: job.data.agentId } : {}), correlationId: `task-${job.id}` },
          ...(job.data.expiresInMs ? { expiresInMs: job.data.expiresInMs } : {}),
          ...(job.data.approverEmail ? { approverEmail: job.data.approverEmail } : {}),
          reuse: job.data.reuse ?? 'never',
        },
        { client: options.client, resumer: resumerFor(job.data.agentId ?? '') },
      );
      resumed += 1;
      const res = await fetch(`${job.data.service}/api/me`, {
        headers: {
          authorization: `Bearer ${await login.accessToken()}`,
          ...(job.data.agentId ? { 'x-agent-id': job.data.agentId } : {}),
        },
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
      await Promise.all([...resumers.values()].map((r) => r.close()));
      await queue.close();
    },
  };
}

/** What an example needs to reach the bridge and keep its queue, from the environment. */
export interface ExampleSetup {
  readonly client: BridgeClient;
  /** The agent's own Redis (never the bridge's). */
  readonly connection: Redis;
  readonly prefix: string;
  /** True when acting for `agentId` with the operator token (development only). */
  readonly asAdmin: boolean;
  /** The agent acted for with the operator token; undefined with an agent key (the key names it). */
  readonly agentId: string | undefined;
  close(): Promise<void>;
}

/**
 * HANDOFF_URL, HANDOFF_AGENT_KEY (else the development operator token, acting for `agentId`
 * or `example-agent`), REDIS_URL (else a private redis-server under $HANDOFF_DATA_DIR/agent).
 * Undefined, after saying why on stderr, when there is no token to use.
 */
export async function exampleSetup(agentIdArg: string | undefined): Promise<ExampleSetup | undefined> {
  const baseUrl = process.env.HANDOFF_URL ?? 'http://127.0.0.1:8080';
  const agentKey = process.env.HANDOFF_AGENT_KEY;
  const agentId = agentIdArg ?? (agentKey ? undefined : 'example-agent');
  const dataDir = process.env.HANDOFF_DATA_DIR ?? '.handoff';
  let token = agentKey;
  if (!token) {
    token =
      process.env.HANDOFF_API_TOKEN ?? (await readFile(join(dataDir, 'api-token'), 'utf8').catch(() => '')).trim();
    if (!token) {
      process.stderr.write(
        `Set HANDOFF_AGENT_KEY to the agent's key (or run next to a development bridge, which keeps ${join(dataDir, 'api-token')}).\n`,
      );
      return undefined;
    }
    process.stderr.write(
      `No HANDOFF_AGENT_KEY: using the operator token, acting for agent ${agentId} (development only).\n`,
    );
  }
  let privateRedis: EmbeddedRedis | undefined;
  if (!process.env.REDIS_URL) {
    privateRedis = await startEmbeddedRedis({ dataDir: join(dataDir, 'agent'), pathEnv: process.env.PATH });
    process.stderr.write(`No REDIS_URL: the agent's queue is on a private redis-server at ${privateRedis.url}.\n`);
  }
  const connection = new Redis(process.env.REDIS_URL ?? privateRedis!.url, { maxRetriesPerRequest: null });
  return {
    client: createBridgeClient({
      baseUrl,
      apiToken: token,
      allowInsecureUrl: process.env.HANDOFF_ALLOW_INSECURE_URL === 'true',
    }),
    connection,
    prefix: process.env.AGENT_QUEUE_PREFIX ?? 'agent',
    asAdmin: !agentKey,
    agentId,
    async close() {
      connection.disconnect();
      await privateRedis?.stop();
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string' },
      thread: { type: 'string', default: 'local:demo' },
      approver: { type: 'string', multiple: true },
      // With an agent key the key names the agent; with the operator token, this one.
      'agent-id': { type: 'string' },
    },
  });
  if (!values.service) {
    process.stderr.write('usage: examples/agent-worker.ts --service URL [--thread REF] [--approver ID]\n');
    return 2;
  }
  const setup = await exampleSetup(values['agent-id']);
  if (!setup) return 2;
  const { connection, prefix, agentId } = setup;
  const agent = createExampleAgent({
    connection,
    prefix,
    client: setup.client,
    asAdmin: setup.asAdmin,
    agentIds: agentId ? [agentId] : [''],
  });
  // QueueEvents duplicates the connection it is given (and closes its copy); passing our own
  // duplicate would leave an extra socket open and the process would never exit.
  const events = new QueueEvents(agentQueueName, { connection, prefix });
  const job = await agent.queue.add('task', {
    service: values.service,
    thread: values.thread!,
    approvers: values.approver ?? [],
    agentId,
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
    await setup.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
