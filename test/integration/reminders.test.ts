import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUtc } from '../../src/core/messages.js';
import { runDriverNow } from '../helpers/driver-run.js';
import { botMessages, localReply } from '../helpers/local-replies.js';
import { randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Reminders and the expiry warning (issue #14): the driver's own timers, run by moving the
 * bridge's clock and waking the driver job as its delayed moment would.
 */
describe('reminders while a handoff waits', () => {
  let bridge: TestBridge;
  let offsetMs = 0;
  const clock = { now: () => Date.now() + offsetMs };
  beforeAll(async () => {
    bridge = await startTestBridge('reminders', {
      clock,
      env: { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_POLL_MAX_INTERVAL_MS: '600000' },
    });
  });
  afterAll(async () => bridge.close());

  const bot = (thread: string, prefix: string) => botMessages(bridge, thread, prefix);
  const audited = async (id: string, event: string) =>
    (await bridge.bridge.engine.audit.recent(2_000)).filter((e) => e.handoffId === id && e.event === event);

  it('reminds at its times, mentions the approvers, stops at max, warns before expiry, and goes quiet once decided', async () => {
    offsetMs = 0;
    const thread = freshThread('remind');
    const created = await bridge.api.createApproval({
      thread,
      agent: { id: 'reminded-agent' },
      action: { title: 'Rotate the signing key' },
      approvers: ['ann', 'ben'],
      expiresInMs: 3_600_000,
      remind: { afterMs: 60_000, everyMs: 120_000, max: 2 },
    });
    await waitFor('the request', async () => ((await bot(thread, '🛂')).length ? true : undefined));
    await runDriverNow(bridge, created.id);
    expect(await bot(thread, '⏰')).toHaveLength(0);

    offsetMs = 61_000;
    await runDriverNow(bridge, created.id);
    const [first] = await waitFor('the first reminder', async () => {
      const found = await bot(thread, '⏰');
      return found.length ? found : undefined;
    });
    expect(first!.text).toContain('ann, ben');
    expect(first!.text).toContain('Rotate the signing key');
    expect(first!.text).toContain(`until ${formatUtc(created.expiresAt)}`);
    expect(first!.text).toContain('reminder 1 of 2');

    // everyMs after the first, not before.
    offsetMs = 121_000;
    await runDriverNow(bridge, created.id);
    expect(await bot(thread, '⏰')).toHaveLength(1);
    offsetMs = 182_000;
    await runDriverNow(bridge, created.id);
    await waitFor('the second reminder', async () => ((await bot(thread, '⏰')).length === 2 ? true : undefined));

    // 56 minutes in: the expiry warning (5 minutes before), and no third reminder.
    offsetMs = 56 * 60_000;
    await runDriverNow(bridge, created.id);
    const [warning] = await waitFor('the expiry warning', async () => {
      const found = await bot(thread, '⏳');
      return found.length ? found : undefined;
    });
    expect(warning!.text).toContain('expires in 4 min');
    expect(await audited(created.id, 'handoff.reminded')).toHaveLength(2);
    expect(await bot(thread, '⏰')).toHaveLength(2);

    await bridge.bridge.sink(localReply(thread, 'ann', 'approve'));
    await waitFor('the decision', async () =>
      (await bridge.api.getApproval(created.id)).status === 'completed' ? true : undefined,
    );
    offsetMs = 58 * 60_000;
    await runDriverNow(bridge, created.id);
    expect(await bot(thread, '⏰')).toHaveLength(2);
    expect(await bot(thread, '⏳')).toHaveLength(1);
  });

  it('reminds about a login too, 3 times unless told, and not once it was cancelled', async () => {
    offsetMs = 0;
    const thread = freshThread('remind-login');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      agent: { id: 'login-agent' },
      approvers: ['carol'],
      remind: { afterMs: 60_000 },
    });
    await waitFor('awaiting_human', async () =>
      (await bridge.api.getHandoff(created.id)).status === 'awaiting_human' ? true : undefined,
    );
    offsetMs = 61_000;
    // As the driver leaves a login nobody acted on: next poll far away (issue #16).
    const store = bridge.bridge.engine.store;
    await store.transition(created.id, {
      from: ['awaiting_human'],
      set: { activeUntil: clock.now() - 1, nextPollAt: clock.now() + 3_600_000 },
    });
    await runDriverNow(bridge, created.id);
    const [reminder] = await waitFor('the reminder', async () => {
      const found = await bot(thread, '⏰');
      return found.length ? found : undefined;
    });
    // A reminder brings people back: the service is polled at its interval again for a while.
    const reminded = (await store.get(created.id))!;
    expect(reminded.activeUntil).toBeGreaterThan(clock.now());
    expect(reminded.nextPollAt).toBeLessThanOrEqual(clock.now() + reminded.pollIntervalMs!);
    expect(reminder!.text).toMatch(/carol: the login to 127\.0\.0\.1:\d+ .* for agent login-agent/);
    expect(reminder!.text).toContain('reminder 1 of 3');
    await bridge.api.cancelHandoff(created.id);
    offsetMs = 200_000;
    await runDriverNow(bridge, created.id);
    expect(await bot(thread, '⏰')).toHaveLength(1);
  });

  it('refuses reminders more often than once a minute, naming the field', async () => {
    const res = await fetch(`${bridge.url}/v1/handoffs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'approval',
        thread: freshThread('bad'),
        agent: { id: 'a' },
        action: { title: 'x' },
        remind: { afterMs: 1_000 },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_request', field: 'remind.afterMs' } });
  });
});

describe('reminders across a bridge restart', () => {
  it('the next bridge on the same Redis sends the reminder the first one scheduled', async () => {
    let offsetMs = 0;
    const clock = { now: () => Date.now() + offsetMs };
    const shared = {
      prefix: randomPrefix('rem-rst'),
      vaultKey: randomBytes(32),
      apiToken: `t-${randomBytes(12).toString('hex')}`,
      clock,
    };
    const first = await startTestBridge('reminders-restart-1', shared);
    const thread = freshThread('rst');
    const created = await first.api.createApproval({
      thread,
      agent: { id: 'restart-agent' },
      action: { title: 'Fail over' },
      approvers: ['dan'],
      remind: { afterMs: 60_000, max: 1 },
    });
    await waitFor('the request', async () =>
      (await first.messages(thread)).some((m) => m.kind === 'bot' && m.text.startsWith('🛂')) ? true : undefined,
    );
    await runDriverNow(first, created.id);
    await first.bridge.close();

    const second = await startTestBridge('reminders-restart-2', shared);
    try {
      offsetMs = 61_000;
      await runDriverNow(second, created.id);
      const reminders = await waitFor('the reminder from the second bridge', async () => {
        const found = (await second.messages(thread)).filter((m) => m.kind === 'bot' && m.text.startsWith('⏰'));
        return found.length ? found : undefined;
      });
      expect(reminders).toHaveLength(1);
      expect(reminders[0]!.text).toContain('dan');
      offsetMs = 200_000;
      await runDriverNow(second, created.id);
      expect((await second.messages(thread)).filter((m) => m.text.startsWith('⏰'))).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
