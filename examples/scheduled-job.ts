/**
 * A scheduled job that needs a login, written the way an agent author would (issue #14). A
 * BullMQ job scheduler runs a report every `--every`; each run calls requireLogin(), then the
 * service's /api/me with the credential, and prints one JSON line.
 *
 *   HANDOFF_URL=http://127.0.0.1:8080 HANDOFF_AGENT_KEY=… \
 *     node --import tsx examples/scheduled-job.ts --service http://127.0.0.1:8080/sandbox --thread local:demo --every 1m
 *
 * - The first run asks in the thread and waits (parked as a delayed job: no worker held).
 * - Later runs reuse the grant: requireLogin() defaults to `reuse: 'agent'`, so while the bridge
 *   holds a live credential of this agent for this service, a run gets it at once, without
 *   parking, and nothing is posted.
 * - A run that fires while an earlier run's login still waits joins that login: one request in
 *   the thread, and every waiting run resumes when it is answered.
 * - Once the credential is revoked (`handoff revoke ID`) or dies (expired beyond refresh), the
 *   next run asks again in the same thread and waits; the schedule goes on meanwhile.
 *
 * The schedule lives in the agent's Redis (REDIS_URL): a restarted worker picks it up where it
 * was. `--runs N` stops after N runs that got a credential (for demos and tests); Ctrl-C stops.
 * Without HANDOFF_AGENT_KEY or REDIS_URL it uses the development defaults of agent-worker.ts.
 */
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseDuration } from '../src/core/clock.js';
import type { BridgeClient } from '../src/client/bridge-client.js';
import { createLoginResumer } from '../src/client/login-resumer.js';
import { requireLogin } from '../src/client/require-login.js';
import { exampleSetup } from './agent-worker.js';

export const scheduledQueueName = 'scheduled-report';
export const schedulerId = 'report';

/** What each run prints: whose login it used, and what the service said. */
export interface RunResult {
  readonly run: string;
  readonly handoffId: string;
  /** True when a standing grant answered at once (nobody was asked for this run). */
  readonly reused: boolean;
  readonly credentialId: string;
  /** HTTP status of GET <service>/api/me with the credential. */
  readonly status: number;
  readonly me: unknown;
}

export function createScheduledJob(options: {
  connection: Redis;
  prefix: string;
  client: BridgeClient;
  service: string;
  thread: string;
  approvers?: readonly string[];
  /** With the operator token (development): the agent to act for. */
  agentId?: string;
  everyMs: number;
  onRun?: (result: RunResult) => void;
}) {
  const { connection, prefix, client, service } = options;
  const resumer = createLoginResumer({
    client,
    connection,
    keyPrefix: `${prefix}:resumer${options.agentId ? `:${options.agentId}` : ''}`,
    ...(options.agentId ? { agent: options.agentId } : {}),
    onError: (err) => process.stderr.write(`login resumer: ${(err as Error).message}\n`),
  });
  const queue = new Queue(scheduledQueueName, { connection, prefix });
  const worker = new Worker<Record<string, unknown>, RunResult>(
    scheduledQueueName,
    async (job, token) => {
      const login = await requireLogin(
        job,
        token,
        {
          service,
          thread: options.thread,
          approvers: [...(options.approvers ?? [])],
          agent: { ...(options.agentId ? { id: options.agentId } : {}), correlationId: `run-${job.id}` },
        },
        { client, resumer },
      );
      const res = await fetch(`${service}/api/me`, {
        headers: { authorization: `Bearer ${await login.accessToken()}` },
      });
      const result: RunResult = {
        run: job.id!,
        handoffId: login.handoffId,
        reused: login.reused,
        credentialId: login.credentialId,
        status: res.status,
        me: await res.json(),
      };
      options.onRun?.(result);
      return result;
    },
    { connection, prefix, concurrency: 10 },
  );
  worker.on('failed', (job, err) => process.stderr.write(`run ${job?.id} failed: ${err.message}\n`));
  return {
    queue,
    worker,
    /** Starts (or updates) the schedule and begins following the feed of endings. */
    async start() {
      resumer.start();
      await queue.upsertJobScheduler(schedulerId, { every: options.everyMs }, { name: 'report', data: {} });
    },
    async close() {
      await worker.close();
      await resumer.close();
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
      every: { type: 'string', default: '1m' },
      runs: { type: 'string' },
      'agent-id': { type: 'string' },
    },
  });
  const everyMs = parseDuration(values.every!);
  const runs = values.runs === undefined ? Infinity : Number(values.runs);
  if (!values.service || !everyMs || !(runs > 0)) {
    process.stderr.write(
      'usage: examples/scheduled-job.ts --service URL [--thread REF] [--approver ID] [--every 1m] [--runs N]\n',
    );
    return 2;
  }
  const setup = await exampleSetup(values['agent-id']);
  if (!setup) return 2;
  let done = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const job = createScheduledJob({
    connection: setup.connection,
    prefix: setup.prefix,
    client: setup.client,
    service: values.service,
    thread: values.thread!,
    approvers: values.approver ?? [],
    ...(setup.asAdmin && setup.agentId ? { agentId: setup.agentId } : {}),
    everyMs,
    onRun: (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (++done >= runs) stop();
    },
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await job.start();
  process.stderr.write(`scheduled every ${values.every}; the first run asks for a login in ${values.thread}\n`);
  await stopped;
  await job.close();
  await setup.close();
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
