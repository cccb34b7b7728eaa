import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/core/errors.js';
import { say } from '../../src/core/sentence.js';
import type { MessageRef, PostContext, ThreadAdapter } from '../../src/core/thread-adapter.js';
import type { ThreadAddress } from '../../src/core/thread-ref.js';
import type { OutboundAction } from '../../src/engine/ports.js';
import { createOutboundWorker } from '../../src/queue/outbound-worker.js';
import { createOutbox } from '../../src/queue/outbox.js';
import { createQueues, type OutboundBatch, type Queues } from '../../src/queue/queues.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * An ending's outbound actions (notice, reaction, redaction) as one job on a platform that
 * sets no outbound pace, on real BullMQ and Redis: grouped by platform and handoff, one job per
 * action on a paced platform, run in order, and a retry starts at the action that failed, so
 * nothing that went through is done twice. The platform is a stand-in defined here ("drill"),
 * recording each call; the engine is a whole test bridge's.
 */
describe('outbound batches', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('obatch');
  const { logger } = captureLogs('outbound-batch');
  let bridge: TestBridge;
  let queues: Queues;
  const closers: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    bridge = await startTestBridge('outbound-batch');
    queues = createQueues(redis, prefix, ['local', 'slack', 'drill']);
  });
  afterAll(async () => {
    for (const c of closers.reverse()) await c.close();
    await queues?.close();
    await bridge?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const message = (platform: string, handoffId: string): MessageRef => ({
    platform,
    thread: `${platform}:room`,
    id: `m-${handoffId}`,
  });
  const ending = (platform: string, handoffId: string): OutboundAction[] => [
    {
      kind: 'post',
      handoffId,
      thread: `${platform}:room`,
      message: { kind: 'notice', handoffId, event: 'completed', text: say`Logged in.` },
    },
    { kind: 'react', handoffId, message: message(platform, handoffId), reaction: 'ok' },
    {
      kind: 'redact',
      handoffId,
      message: message(platform, handoffId),
      owner: { agentId: 'drill-agent', correlationId: `corr-${handoffId}` },
    },
  ];

  it('queues one job per handoff on an unpaced platform, one per action on a paced one', async () => {
    const outbox = createOutbox(queues, ['local']);
    await outbox.sendAll([
      ...ending('local', 'h1'),
      ...ending('slack', 'h2'),
      ...ending('local', 'h3').slice(0, 1),
      ...ending('local', 'h4').slice(1),
    ]);
    const local = await queues.outbound('local').getWaiting();
    const slack = await queues.outbound('slack').getWaiting();
    const batches = local.filter((j) => j.name === 'batch').map((j) => j.data as OutboundBatch);
    expect(batches.map((b) => [b.handoffId, b.actions.map((a) => a.kind)]).sort()).toEqual([
      ['h1', ['post', 'react', 'redact']],
      ['h4', ['react', 'redact']],
    ]);
    // A single action stays a job of its own kind.
    expect(local.filter((j) => j.name !== 'batch').map((j) => [j.name, j.data.handoffId])).toEqual([['post', 'h3']]);
    expect(slack.map((j) => j.name).sort()).toEqual(['post', 'react', 'redact']);
    await queues.outbound('local').obliterate({ force: true });
    await queues.outbound('slack').obliterate({ force: true });
  });

  /** A platform stand-in whose calls are recorded and may fail as told. */
  function drillAdapter(fail: (kind: string, call: number) => Error | undefined) {
    const calls: Array<{ kind: string; key?: string }> = [];
    const count = (kind: string) => calls.filter((c) => c.kind === kind).length;
    const record = (kind: string, key?: string) => {
      calls.push({ kind, ...(key ? { key } : {}) });
      const err = fail(kind, count(kind));
      if (err) throw err;
    };
    const adapter: ThreadAdapter<ThreadAddress> = {
      platform: 'drill',
      parseThread: (ref) => ({ platform: 'drill', ref }),
      async post(thread, _msg, context?: PostContext) {
        record('post', context?.idempotencyKey);
        return { platform: 'drill', thread: thread.ref, id: `p-${randomBytes(4).toString('hex')}` };
      },
      async react() {
        record('react');
      },
      async redact() {
        record('redact');
        return 'hidden';
      },
    };
    return { adapter, calls };
  }

  /** One drill worker at a time: each test's replaces the one before. */
  const startWorker = async (adapter: ThreadAdapter<ThreadAddress>) => {
    await closers.pop()?.close();
    const worker = createOutboundWorker({
      engine: bridge.bridge.engine,
      adapter,
      connection: redis,
      prefix,
      lockMs: 30_000,
      logger,
    });
    closers.push(worker);
    return worker;
  };

  it('runs the actions in order; a retry starts at the one that failed', async () => {
    // The reaction fails once (a dropped connection: retried), nothing else does.
    const { adapter, calls } = drillAdapter((kind, call) =>
      kind === 'react' && call === 1 ? new Error('socket hang up') : undefined,
    );
    await startWorker(adapter);
    const id = `h-${randomBytes(4).toString('hex')}`;
    const actions = [...ending('drill', id), { ...ending('drill', id)[0]! }];
    await createOutbox(queues, ['drill']).sendAll(actions);
    await waitFor('every action of the batch', async () => (calls.length === 5 ? true : undefined));
    expect(calls.map((c) => c.kind)).toEqual(['post', 'react', 'react', 'redact', 'post']);
    // Each post keeps a key of its own, the same on every run of the job.
    const [first, second] = calls.filter((c) => c.kind === 'post').map((c) => c.key);
    expect(first).toMatch(/^\d+$/);
    expect(second).toBe(`${first}.3`);
    // The redaction was recorded, as a job of its own records it, naming whom the action names.
    const entries = await bridge.bridge.engine.audit.recent(10, id);
    expect(entries.find((e) => e.event === 'reply.redacted')).toMatchObject({
      agentId: 'drill-agent',
      correlationId: `corr-${id}`,
      detail: { outcome: 'hidden', platform: 'drill' },
    });
  });

  it('a redaction queued without its owner (by an older bridge) reads them from the handoff', async () => {
    const { adapter } = drillAdapter(() => undefined);
    await startWorker(adapter);
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread: `local:obatch-${randomBytes(3).toString('hex')}`,
      agent: { id: 'older-agent' },
    });
    await createOutbox(queues, ['drill']).send({
      kind: 'redact',
      handoffId: created.id,
      message: message('drill', created.id),
    });
    const entry = await waitFor('the redaction audited', async () =>
      (await bridge.bridge.engine.audit.recent(20, created.id)).find((e) => e.event === 'reply.redacted'),
    );
    expect(entry.agentId).toBe('older-agent');
  });

  it('a failure for good stops the batch there: later actions never run, earlier ones never again', async () => {
    const { adapter, calls } = drillAdapter((kind) =>
      kind === 'react' ? new BadInputError('the platform refused the reaction', { code: 'refused' }) : undefined,
    );
    await startWorker(adapter);
    await createOutbox(queues, ['drill']).sendAll(ending('drill', `h-${randomBytes(4).toString('hex')}`));
    const [job] = await waitFor('the batch to fail', async () => {
      const jobs = await queues.outbound('drill').getFailed();
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(calls.map((c) => c.kind)).toEqual(['post', 'react']);
    expect((job!.data as OutboundBatch).done).toBe(1);
    expect(job!.failedReason).toContain('refused');
  });
});
