import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personActiveWindowMs } from '../../src/core/handoff.js';
import { handoffTag } from '../../src/core/handoff-tag.js';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { approveOnSandbox } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Approve-only logins (issue #16): the person approves at the service and answers nothing in
 * the thread. The bridge polls at the protocol's interval while a person is likely acting —
 * right after the link is posted, and again when the local page says the link was opened —
 * and backs off otherwise. The page's report is unauthenticated, so it may only make the
 * bridge ask sooner: never faster than the interval, never a completion, never another thread.
 */
describe('a login link opened: the bridge polls the service sooner', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('link-opened');
    agent = await createTestAgent(bridge, 'link-agent');
  });
  afterAll(async () => {
    await bridge?.close();
  });

  const record = async (id: string) => (await bridge.bridge.engine.store.get(id))!;
  const login = async (thread: string) => {
    const res = await agent.call('POST', '/v1/handoffs', { service: `${bridge.url}/sandbox`, thread });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    await waitFor('the link posted', async () => (await record(id)).status === 'awaiting_human');
    return id;
  };
  const opened = (thread: string, tag: unknown, headers: Record<string, string> = {}) =>
    fetch(`${bridge.url}/v1/threads/local/${thread.slice('local:'.length)}/opened`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ tag }),
    });
  /** Ages a waiting login as the driver would after its active minutes: next poll far away. */
  const backedOff = async (id: string) => {
    const now = Date.now();
    const saved = await bridge.bridge.engine.store.transition(id, {
      from: ['awaiting_human'],
      set: { activeUntil: now - 1, nextPollAt: now + 3_600_000 },
    });
    expect(saved.ok).toBe(true);
  };

  it('polls at the interval for the first minutes after the link is posted', async () => {
    const before = Date.now();
    const r = await record(await login(freshThread('posted')));
    expect(r.pollIntervalMs).toBe(2_000); // HANDOFF_POLL_INTERVAL_MS's default: the service names none
    expect(r.activeUntil).toBeGreaterThanOrEqual(before + personActiveWindowMs);
    expect(r.activeUntil).toBeLessThanOrEqual(Date.now() + personActiveWindowMs);
  });

  it('an approval at the service with no reply completes once the link is reported opened', async () => {
    const thread = freshThread('approve-only');
    const id = await login(thread);
    await backedOff(id);
    await approveOnSandbox((await record(id)).approvalUrl!);
    // Backed off an hour: nothing would look at the service before the handoff expires.
    const res = await opened(thread, handoffTag(id));
    expect(res.status).toBe(202);
    const r = await record(id);
    expect(r.activeUntil).toBeGreaterThan(Date.now() + personActiveWindowMs / 2);
    expect(r.nextPollAt).toBeLessThanOrEqual(Date.now() + r.pollIntervalMs!);
    await waitFor('the login completed by the poll', async () => (await record(id)).status === 'completed');
  });

  it('a flood of reports writes once per half window and never polls faster than the interval', async () => {
    const thread = freshThread('flood');
    const id = await login(thread);
    await backedOff(id);
    const first = await opened(thread, handoffTag(id));
    expect(first.status).toBe(202);
    const after = await record(id);
    const replies = await Promise.all(Array.from({ length: 100 }, () => opened(thread, handoffTag(id))));
    expect(replies.map((r) => r.status)).toEqual(Array(100).fill(202));
    const flooded = await record(id);
    // The driver's own polls may move it on; the reports themselves changed nothing more.
    expect(flooded.activeUntil).toBe(after.activeUntil);
    expect(flooded.nextPollAt! - Date.now()).toBeLessThanOrEqual(after.pollIntervalMs!);
  });

  it('a report from another thread, for an approval, or with a forged tag changes nothing', async () => {
    const thread = freshThread('victim');
    const id = await login(thread);
    await backedOff(id);
    const untouched = await record(id);

    // The same tag reported from another thread: tags are per thread.
    expect((await opened(freshThread('elsewhere'), handoffTag(id))).status).toBe(202);
    // A tag nobody has, and the same answer (it tells nothing about which handoffs exist).
    expect((await opened(thread, handoffTag(id) === '#h-0000' ? '#h-0001' : '#h-0000')).status).toBe(202);
    expect((await record(id)).version).toBe(untouched.version);

    // Not a tag at all: a specific error, nothing looked up.
    for (const bad of ['hf_' + 'a'.repeat(24), '#h-zzzz', '#h-4f2a; DROP', 42, null, 'x'.repeat(2000)]) {
      const res = await opened(thread, bad);
      expect(res.status).toBe(bad === 'x'.repeat(2000) ? 413 : 400);
    }

    // An approval request in the thread: there is no service to poll.
    const approval = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread,
      action: { title: 'Deploy' },
    });
    expect(approval.status).toBe(201);
    const approvalBefore = await waitFor('the approval posted', async () => {
      const r = await bridge.bridge.engine.store.get(approval.body.id);
      return r?.status === 'awaiting_human' ? r : undefined;
    });
    expect((await opened(thread, handoffTag(approval.body.id))).status).toBe(202);
    expect((await bridge.bridge.engine.store.get(approval.body.id))?.version).toBe(approvalBefore?.version);
    expect((await record(id)).version).toBe(untouched.version);
  });

  it('refuses a report sent from another site (the browser guard)', async () => {
    const thread = freshThread('csrf');
    const id = await login(thread);
    await backedOff(id);
    const before = await record(id);
    const res = await opened(thread, handoffTag(id), {
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    });
    expect(res.status).toBe(403);
    expect((await record(id)).version).toBe(before.version);
  });
});
