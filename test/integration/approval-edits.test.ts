import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMessage } from '../../adapters/local/local-thread-store.js';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { forbiddenCharacters } from '../helpers/rendered-markup.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { hostileReason, outboundIdle } from '../helpers/approval-edits.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The approval request edited in place in a local thread (issue #13): each counted vote shows
 * in the request itself, and the end (approved, denied, expired, cancelled) replaces it with
 * the outcome, who, when and why, without the Approve and Deny buttons. Real API, Redis and
 * workers; votes are replies through the local thread route.
 */
describe('approval requests edited in place (local threads)', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('approval-edits');
    agent = await createTestAgent(bridge, 'edit-agent');
  });
  afterAll(async () => bridge.close());

  const ask = async (thread: string, extra: Record<string, unknown> = {}) => {
    const res = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread,
      action: { title: 'Rotate the signing key', risk: 'high', link: 'https://ops.example/runbook' },
      ...extra,
    });
    expect(res.status).toBe(201);
    const request = await waitFor('the request in the thread', async () =>
      (await bridge.messages(thread)).find((m) => m.kind === 'bot' && m.text.startsWith('🛂')),
    );
    return { id: res.body.id as string, request };
  };
  /** The request message (by id) once it says `what`. */
  const requestSays = (thread: string, id: string, what: string) =>
    waitFor(`the request to say "${what}"`, async () =>
      (await bridge.messages(thread)).find((m: LocalMessage) => m.id === id && m.text.includes(what)),
    );

  it('quorum 2: the first approval shows 1 of 2 with the buttons kept; the second shows it approved, buttons gone', async () => {
    const thread = freshThread('q2');
    const { request } = await ask(thread, { quorum: 2 });
    expect(request.decide).toMatch(/^#h-[0-9a-f]{4}$/);
    await bridge.reply(thread, 'alice', 'approve');
    const counted = await requestSays(thread, request.id, 'Approvals so far: 1 of 2 (alice)');
    expect(counted.decide).toBe(request.decide);
    expect(counted.text).toContain('Rotate the signing key');
    await bridge.reply(thread, 'bob', 'lgtm');
    const done = await requestSays(thread, request.id, '✅ Approved');
    expect(done.text).toMatch(/Approved by alice, bob at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(done.decide).toBeUndefined();
    expect(done.edited).toBe(true);
    expect(done.text).not.toContain('Reply "approve"');
    // The action's link is still the one link the post carries.
    expect(done.link).toBe('https://ops.example/runbook');
    // Edited, not posted again: one request in the thread.
    const bots = (await bridge.messages(thread)).filter((m) => m.kind === 'bot' && m.text.includes('Rotate'));
    expect(bots.filter((m) => m.id === request.id)).toHaveLength(1);
    expect(bots.filter((m) => m.text.startsWith('🛂'))).toHaveLength(0);
  });

  it('a deny shows who, when and the reason as the person’s words: no markup, no link, no lone surrogate', async () => {
    const thread = freshThread('deny');
    const { request } = await ask(thread, { quorum: 2 });
    await bridge.reply(thread, 'carol', 'approve');
    await requestSays(thread, request.id, '1 of 2');
    await bridge.reply(thread, 'dave', `deny ${hostileReason}`);
    const done = await requestSays(thread, request.id, '⛔ Denied');
    expect(done.text).toMatch(/Denied by dave at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(done.text).toContain(
      'Reason: **bold** @alice <@U0ALICE001> <!channel> @here [click](https://evil.example/x)',
    );
    expect(done.text).toContain('Approvals so far: 1 of 2 (carol)');
    for (const line of done.text.split('\n')) expect(line).not.toMatch(forbiddenCharacters);
    expect(done.text).toContain('\uFFFD end');
    expect(done.link).toBe('https://ops.example/runbook');
    expect(done.decide).toBeUndefined();
  });

  it('an expiry and a cancel each replace the request with what happened', async () => {
    const expiring = freshThread('exp');
    const cancelling = freshThread('can');
    const a = await ask(expiring, { expiresInMs: 800 });
    const b = await ask(cancelling);
    expect((await agent.call('DELETE', `/v1/handoffs/${b.id}`)).body.status).toBe('cancelled');
    const cancelled = await requestSays(cancelling, b.request.id, '⏹ Cancelled');
    expect(cancelled.text).toMatch(/Cancelled at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(cancelled.text).toContain('edit-agent');
    expect(cancelled.decide).toBeUndefined();
    const expired = await requestSays(expiring, a.request.id, '⌛ Expired');
    expect(expired.text).toContain('nothing is done');
    expect(expired.decide).toBeUndefined();
  });

  it('concurrent votes: once every edit has run, the request shows the settled state and its deciders', async () => {
    const thread = freshThread('race');
    const { id, request } = await ask(thread, { quorum: 3 });
    const voters = Array.from({ length: 12 }, (_, i) => `v${i}`);
    await Promise.all(voters.map((v) => bridge.reply(thread, v, 'approve')));
    const view = await waitFor('the decision', async () => {
      const v = await bridge.api.getApproval(id);
      return v.decision ?? undefined;
    });
    await requestSays(thread, request.id, '✅ Approved');
    await outboundIdle(bridge, 'local');
    const last = (await bridge.messages(thread)).find((m) => m.id === request.id)!;
    expect(last.text).toContain(`Approved by ${view.by.map((b) => b.who).join(', ')} at`);
    expect(last.text).not.toContain('Approvals so far');
    expect(last.decide).toBeUndefined();
  });

  it('an edit queued after the end re-renders the end: a late edit cannot bring back the vote count', async () => {
    const thread = freshThread('late');
    const { id, request } = await ask(thread, { quorum: 2 });
    await bridge.reply(thread, 'erin', 'approve');
    await requestSays(thread, request.id, '1 of 2');
    await bridge.reply(thread, 'frank', 'approve');
    await requestSays(thread, request.id, '✅ Approved');
    // A stale job (as a slow vote's edit would be) runs after the settlement.
    await bridge.bridge.engine.outbox.send({ kind: 'edit', handoffId: id, thread });
    await outboundIdle(bridge, 'local');
    const last = (await bridge.messages(thread)).find((m) => m.id === request.id)!;
    expect(last.text).toContain('✅ Approved');
    expect(last.text).not.toContain('Approvals so far');
  });
});
