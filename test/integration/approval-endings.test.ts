import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxReasonLength } from '../../src/core/approval.js';
import { castVote } from '../../src/engine/approval-vote.js';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Every way an approval ends, through the real bridge: a settling vote (its ending written by the
 * vote script, the sink's copy after), a vote whose JS dies after the script, the expiry and the
 * timed-out deny (through the transition), a hostile deny reason. Each ending is audited once
 * (test/integration/approval-ending-audit.test.ts: the vote script itself).
 */
const endingEvents = ['handoff.completed', 'handoff.failed', 'handoff.expired', 'handoff.cancelled'];
const hostile = `"}\\/</script><img src=x onerror=alert(1)>\u2028\u0007é${'\u202e'}${'\uD800'}${'ü'.repeat(2_000)}`;

describe('approval endings: every way an approval ends is audited once', () => {
  const sinkPath = join(tmpdir(), `handoff-apaudit-${randomBytes(4).toString('hex')}.jsonl`);
  let bridge: TestBridge;
  let agent: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('apaudit', { env: { HANDOFF_AUDIT_SINK: `file:${sinkPath}` } });
    agent = await createTestAgent(bridge, 'apaudit-agent');
  });
  afterAll(async () => {
    await bridge.close();
    await rm(sinkPath, { force: true });
  });

  const ask = async (extra: Record<string, unknown> = {}) => {
    const res = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread: freshThread('apa'),
      action: { title: 'Rotate the keys' },
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; thread: string };
  };
  const waiting = (id: string) =>
    waitFor('the approval to wait for votes', async () => {
      const record = await bridge.bridge.engine.store.get(id);
      return record?.status === 'awaiting_human' ? record : undefined;
    });
  const endings = async (id: string) =>
    (await bridge.bridge.engine.audit.recent(5_000, id)).filter((e) => endingEvents.includes(e.event));
  const sinkEndings = async (id: string) =>
    (await readFile(sinkPath, 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { event: string; handoffId?: string; detail?: unknown })
      .filter((e) => e.handoffId === id && endingEvents.includes(e.event));

  it('a vote that settles: one entry in the stream, one copy in the sink after it, the same', async () => {
    const { id, thread } = await ask();
    await waiting(id);
    await bridge.reply(thread, 'carol', 'approve');
    const [copy] = await waitFor('the sink’s copy', async () => {
      const found = await sinkEndings(id);
      return found.length > 0 ? found : undefined;
    });
    const found = await endings(id);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ event: 'handoff.completed', actor: 'carol' });
    expect(copy).toMatchObject({ event: 'handoff.completed', actor: 'carol', detail: found[0]!.detail });
    expect(found[0]!.detail).toEqual({ status: 'completed', outcome: 'approved' });
    expect(await sinkEndings(id)).toHaveLength(1);
  });

  it('a vote whose JS fails after the script: the ending stays, once; retried, it is closed and adds none', async () => {
    const { id } = await ask();
    const record = await waiting(id);
    const engine = bridge.bridge.engine;
    const dying = {
      ...engine,
      audit: {
        ...engine.audit,
        append: async () => {
          throw new Error('the worker died after the vote script');
        },
      },
    };
    const voter = { id: 'erin' };
    await expect(castVote(dying, record, voter, { vote: 'approve' }, { platform: 'local' })).rejects.toThrow('died');
    expect(await castVote(engine, record, voter, { vote: 'approve' }, { platform: 'local' })).toBe('closed');
    const found = await endings(id);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ event: 'handoff.completed', actor: 'erin' });
    // The sink's copy comes after everything that died: at most once there, here none.
    expect(await sinkEndings(id)).toEqual([]);
  });

  it('expiry and a timed-out deny: one ending each, with the decision for the deny; a late vote adds none', async () => {
    const a = await ask({ expiresInMs: 600 });
    const b = await ask({ expiresInMs: 600, onTimeout: 'deny' });
    const [ea, eb] = await Promise.all(
      [a.id, b.id].map((id) =>
        waitFor('the approval to time out', async () => {
          const found = await endings(id);
          return found.length > 0 ? found : undefined;
        }),
      ),
    );
    expect(ea).toHaveLength(1);
    expect(ea![0]).toMatchObject({
      event: 'handoff.expired',
      actor: 'bridge:timeout',
      detail: { status: 'expired', error: 'expired' },
    });
    expect(eb![0]).toMatchObject({
      event: 'handoff.completed',
      actor: 'bridge:timeout',
      detail: { status: 'completed', outcome: 'denied', reason: 'timed out' },
    });
    // A vote that raced the expiry and lost (a reply to a thread with no open handoff is not even routed).
    const engine = bridge.bridge.engine;
    for (const id of [a.id, b.id]) {
      const ended = (await engine.store.get(id))!;
      expect(await castVote(engine, ended, { id: 'carol' }, { vote: 'approve' }, { platform: 'local' })).toBe('closed');
    }
    expect(await endings(a.id)).toHaveLength(1);
    expect(await endings(b.id)).toHaveLength(1);
    const copies = await waitFor('the sink’s copies', async () => {
      const found = [...(await sinkEndings(a.id)), ...(await sinkEndings(b.id))];
      return found.length === 2 ? found : undefined;
    });
    expect(copies.map((c) => c.detail)).toEqual(expect.arrayContaining([ea![0]!.detail, eb![0]!.detail]));
  });

  it('a hostile deny reason from a reply is bounded and escaped in the ending, the vote and the settlement', async () => {
    const { id, thread } = await ask();
    await waiting(id);
    await bridge.reply(thread, 'mallory', `deny: ${hostile}`);
    const ending = await waitFor('the ending', async () => (await endings(id))[0]);
    const reason = ending.detail?.reason;
    expect(typeof reason).toBe('string');
    expect(Array.from(reason as string).length).toBeLessThanOrEqual(maxReasonLength);
    expect(reason).toContain('</script>');
    expect(reason).not.toContain('\uD800');
    expect((await bridge.bridge.engine.store.get(id))?.decision?.reason).toBe(reason);
    const others = await waitFor('the vote and settlement entries', async () => {
      const found = (await bridge.bridge.engine.audit.recent(5_000, id)).filter((e) =>
        ['approval.vote', 'approval.settled'].includes(e.event),
      );
      return found.length === 2 ? found : undefined;
    });
    for (const entry of others) expect(entry.detail?.reason).toBe(reason);
    expect(await endings(id)).toHaveLength(1);
  });
});
