import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUtc } from '../../src/core/messages.js';
import { maxExtensions } from '../../src/engine/extend-handoff.js';
import { createTestAgent, rawCall, type TestAgent } from '../helpers/agents.js';
import { runDriverNow } from '../helpers/driver-run.js';
import { randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

const minute = 60_000;

/** `POST /v1/handoffs/:id/extend` (issue #14): more time, only for one's own handoffs, within bounds. */
describe('giving people more time', () => {
  let bridge: TestBridge;
  let owner: TestAgent;
  let other: TestAgent;
  let offsetMs = 0;
  beforeAll(async () => {
    bridge = await startTestBridge('extend', {
      clock: { now: () => Date.now() + offsetMs },
      env: { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_POLL_MAX_INTERVAL_MS: '600000' },
    });
    owner = await createTestAgent(bridge, 'extend-owner');
    other = await createTestAgent(bridge, 'extend-other');
  });
  afterAll(async () => bridge.close());

  const ask = async (thread = freshThread('ext')) => {
    const created = await owner.api.createApproval({
      thread,
      action: { title: 'Scale the cluster' },
      expiresInMs: 30 * minute,
    });
    await waitFor('the request', async () =>
      (await bridge.messages(thread)).some((m) => m.text.startsWith('🛂')) ? true : undefined,
    );
    return { id: created.id, thread };
  };
  const extend = (agent: TestAgent, id: string, body: unknown) =>
    agent.call('POST', `/v1/handoffs/${encodeURIComponent(id)}/extend`, body);

  it('moves the expiry, tells the thread, and the driver waits for the new one', async () => {
    offsetMs = 0;
    const { id, thread } = await ask();
    const res = await extend(owner, id, { expiresInMs: 50 * minute });
    expect(res.status).toBe(200);
    const expiresAt = res.body.expiresAt as number;
    expect(expiresAt).toBeGreaterThan(Date.now() + 49 * minute);
    // It still counts against the agent's open handoffs after its first expiry would have passed.
    expect(await bridge.bridge.engine.agentLimits.open(owner.id, Date.now() + 40 * minute)).toContain(id);
    const told = await waitFor('the notice', async () =>
      (await bridge.messages(thread)).find((m) => m.text.startsWith('🕒')),
    );
    expect(told.text).toContain(`now waits until ${formatUtc(expiresAt)}`);
    offsetMs = 31 * minute;
    await runDriverNow(bridge, id);
    expect((await owner.api.getApproval(id)).status).toBe('awaiting_human');
    offsetMs = 51 * minute;
    await runDriverNow(bridge, id);
    expect((await owner.api.getApproval(id)).status).toBe('expired');
    expect((await extend(owner, id, { expiresInMs: 10 * minute })).body.error.code).toBe('handoff_finished');
  });

  it("answers another agent's handoff 404, as if it did not exist, and audits the attempt", async () => {
    offsetMs = 0;
    const { id } = await ask();
    const before = await owner.api.getApproval(id);
    const res = await extend(other, id, { expiresInMs: 50 * minute });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('handoff_not_found');
    expect((await owner.api.getApproval(id)).expiresAt).toBe(before.expiresAt);
    const denied = (await bridge.bridge.engine.audit.recent(2_000)).filter(
      (e) => e.handoffId === id && e.event === 'access.denied',
    );
    expect(denied).toHaveLength(1);
    expect(denied[0]!.detail).toMatchObject({ action: 'extend' });
  });

  it('refuses past the bridge maximum, past the service’s own link, shorter, or malformed: 400 naming the field', async () => {
    offsetMs = 0;
    const { id } = await ask();
    const beyond = await extend(owner, id, { expiresInMs: 25 * 3_600_000 });
    expect(beyond.status).toBe(400);
    expect(beyond.body.error).toMatchObject({ code: 'extend_beyond_maximum', field: 'expiresInMs' });
    expect(beyond.body.error.message).toContain('HANDOFF_MAX_EXPIRES_IN_MS');
    const shorter = await extend(owner, id, { expiresInMs: minute });
    expect(shorter.body.error).toMatchObject({ code: 'extend_not_later', field: 'expiresInMs' });
    for (const body of [{}, { expiresInMs: -5 }, { expiresInMs: '1h' }, { expiresInMs: 1_000, also: 1 }]) {
      const bad = await extend(owner, id, body);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_request');
    }

    // The sandbox's login request lives 10 minutes: no extension may outlive it.
    const thread = freshThread('ext-login');
    const login = await owner.api.createHandoff({ service: `${bridge.url}/sandbox`, thread });
    await waitFor('awaiting_human', async () =>
      (await owner.api.getHandoff(login.id)).status === 'awaiting_human' ? true : undefined,
    );
    const past = await extend(owner, login.id, { expiresInMs: 20 * minute });
    expect(past.status).toBe(400);
    expect(past.body.error).toMatchObject({ code: 'extend_beyond_service', field: 'expiresInMs' });
  });

  it('holds a flood of extensions to the most there is, each one told once', async () => {
    offsetMs = 0;
    const { id, thread } = await ask();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => extend(owner, id, { expiresInMs: 40 * minute + i * 1_000 })),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThanOrEqual(maxExtensions);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(['too_many_extensions', 'extend_not_later', 'handoff_busy']).toContain(a.body.error.code);
    }
    const record = (await bridge.bridge.engine.store.get(id))!;
    expect(record.extensions).toBe(ok.length);
    // Five more, one at a time: the count stops at the most.
    for (let i = 0; i < maxExtensions + 1; i++) await extend(owner, id, { expiresInMs: 50 * minute + i * minute });
    const last = await extend(owner, id, { expiresInMs: 59 * minute });
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe('too_many_extensions');
    expect((await bridge.bridge.engine.store.get(id))!.extensions).toBe(maxExtensions);
    await waitFor('the notices', async () =>
      (await bridge.messages(thread)).filter((m) => m.text.startsWith('🕒')).length === maxExtensions
        ? true
        : undefined,
    );
  });
});

describe('an extension across a bridge restart', () => {
  it('the next bridge keeps the new expiry', async () => {
    let offsetMs = 0;
    const shared = {
      prefix: randomPrefix('ext-rst'),
      vaultKey: randomBytes(32),
      apiToken: `t-${randomBytes(12).toString('hex')}`,
      clock: { now: () => Date.now() + offsetMs },
    };
    const first = await startTestBridge('extend-restart-1', shared);
    const thread = freshThread('ext-rst');
    const created = await first.api.createApproval({
      thread,
      agent: { id: 'ext-agent' },
      action: { title: 'Drain the node' },
      expiresInMs: 30 * minute,
    });
    await waitFor('the request', async () =>
      (await first.messages(thread)).some((m) => m.text.startsWith('🛂')) ? true : undefined,
    );
    const res = await rawCall(first.url, first.apiToken, 'POST', `/v1/handoffs/${created.id}/extend`, {
      expiresInMs: 45 * minute,
    });
    expect(res.status).toBe(200);
    await runDriverNow(first, created.id);
    await first.bridge.close();
    const second = await startTestBridge('extend-restart-2', shared);
    try {
      offsetMs = 31 * minute;
      await runDriverNow(second, created.id);
      expect((await second.api.getApproval(created.id)).status).toBe('awaiting_human');
      offsetMs = 46 * minute;
      await runDriverNow(second, created.id);
      expect((await second.api.getApproval(created.id)).status).toBe('expired');
    } finally {
      await second.close();
    }
  });
});
