import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InboundReply } from '../../src/core/thread-adapter.js';
import { randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A bridge that stops while votes are queued or being counted (issue #13): the next one, on the
 * same Redis, counts them and settles the approval exactly once — one decision, one feed
 * entry, one settlement in the audit.
 */
describe('approvals across a restart with votes in flight', () => {
  it('settles exactly once after the restart, with every vote counted once', async () => {
    const shared = {
      prefix: randomPrefix('apr-rst'),
      vaultKey: randomBytes(32),
      apiToken: `t-${randomBytes(12).toString('hex')}`,
    };
    const first = await startTestBridge('approval-restart-1', shared);
    const thread = freshThread('rst');
    const created = await first.api.createApproval({
      thread,
      agent: { id: 'restart-agent' },
      action: { title: 'Fail over the database' },
      quorum: 3,
    });
    await waitFor('the request', async () =>
      (await first.messages(thread)).some((m) => m.kind === 'bot' && m.text.startsWith('🛂')) ? true : undefined,
    );
    const vote = (who: string, n: number): InboundReply => ({
      platform: 'local',
      thread,
      author: { id: who, name: who },
      text: n % 2 ? 'approve' : 'LGTM',
      messageRef: { platform: 'local', thread, id: `${thread.slice(6)}.${randomBytes(8).toString('hex')}` },
      deliveryId: `d-${who}-${n}`,
      receivedAt: Date.now(),
    });
    // Each of four people votes twice; the bridge stops while these are queued or running.
    const replies = ['ann', 'ben', 'cat', 'dan'].flatMap((who) => [vote(who, 1), vote(who, 2)]);
    await Promise.all(replies.map((r) => first.bridge.sink(r)));
    await first.bridge.close();

    const second = await startTestBridge('approval-restart-2', shared);
    try {
      const done = await waitFor(
        'the approval to settle after the restart',
        async () => {
          const v = await second.api.getApproval(created.id);
          return v.status === 'completed' ? v : undefined;
        },
        20_000,
      );
      expect(done.decision!.outcome).toBe('approved');
      expect(new Set(done.decision!.by.map((b) => b.who)).size).toBe(3);
      // Let the remaining queued votes run: they find it closed and change nothing.
      await new Promise((r) => setTimeout(r, 1_000));
      const after = await second.api.getApproval(created.id);
      expect(after.decision).toEqual(done.decision);
      expect(after.votes.approve).toHaveLength(3);
      const feed = await second.api.events({ agent: 'restart-agent' });
      expect(feed.events.filter((e) => e.handoffId === created.id)).toHaveLength(1);
      const settled = (await second.bridge.engine.audit.recent(2_000)).filter(
        (e) => e.handoffId === created.id && e.event === 'approval.settled',
      );
      expect(settled).toHaveLength(1);
      // The request itself was edited to the outcome, whichever bridge ran the edit.
      await waitFor('the request edited to its outcome', async () =>
        (await second.messages(thread)).find((m) => m.kind === 'bot' && m.text.startsWith('✅ Approved')),
      );
      expect((await second.messages(thread)).filter((m) => m.text.startsWith('🛂'))).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
