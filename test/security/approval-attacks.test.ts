import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/** Approvals (issue #13) under attack: other agents' keys, hostile text, unsafe links, bad shapes. */
describe('approval handoffs refuse what they must', () => {
  let bridge: TestBridge;
  let owner: TestAgent;
  let other: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('approval-attacks');
    owner = await createTestAgent(bridge, 'owner-agent');
    other = await createTestAgent(bridge, 'other-agent');
  });
  afterAll(async () => bridge.close());

  const body = (action: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    kind: 'approval',
    thread: freshThread('atk'),
    action: { title: 'Deploy', ...action },
    ...extra,
  });

  it("another agent's key cannot read, wait on or cancel someone's approval (404, as if it did not exist), and the attempt is audited", async () => {
    const created = await owner.call('POST', '/v1/handoffs', body({}));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (const [method, path] of [
      ['GET', `/v1/handoffs/${id}`],
      ['GET', `/v1/handoffs/${id}?waitMs=100`],
      ['DELETE', `/v1/handoffs/${id}`],
    ] as const) {
      const res = await other.call(method, path);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('handoff_not_found');
    }
    expect((await owner.call('GET', `/v1/handoffs/${id}`)).body.status).not.toBe('cancelled');
    const listed = await other.call('GET', '/v1/handoffs?limit=50');
    expect(listed.body.handoffs.map((h: { id: string }) => h.id)).not.toContain(id);
    const denied = (await bridge.bridge.engine.audit.recent(500)).filter(
      (e) => e.event === 'access.denied' && e.handoffId === id,
    );
    expect(denied.length).toBe(3);
  });

  it('an agent key may not act as another agent', async () => {
    const res = await other.call('POST', '/v1/handoffs', body({}, { agent: { id: 'owner-agent' } }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('agent_mismatch');
  });

  it.each([
    ['a javascript: link', { link: 'javascript:alert(1)' }, 'action.link'],
    ['a data: link', { link: 'data:text/html,<script>alert(1)</script>' }, 'action.link'],
    ['a plain http link', { link: 'http://example.com/x' }, 'action.link'],
    ['a link with credentials', { link: 'https://user:pw@example.com/' }, 'action.link'],
    ['a title over 200 characters', { title: 'x'.repeat(201) }, 'action.title'],
    ['a description over 4000 characters', { description: 'x'.repeat(4001) }, 'action.description'],
    ['nested details', { details: { deep: { x: 1 } } }, 'action.details.deep'],
    ['a list in details', { details: { list: [1, 2] } }, 'action.details.list'],
    [
      'too many details',
      { details: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) },
      'action.details',
    ],
    ['an unknown risk', { risk: 'catastrophic' }, 'action.risk'],
    ['an unknown action field', { run: 'rm -rf /' }, 'action.run'],
  ])('refuses %s with 400 naming the field', async (_what, action, field) => {
    const res = await owner.call('POST', '/v1/handoffs', body(action));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', field });
  });

  it('refuses a quorum of 0, an unknown onTimeout and a lone surrogate', async () => {
    expect((await owner.call('POST', '/v1/handoffs', body({}, { quorum: 0 }))).body.error.field).toBe('quorum');
    expect((await owner.call('POST', '/v1/handoffs', body({}, { onTimeout: 'approve' }))).body.error.field).toBe(
      'onTimeout',
    );
    const lone = await owner.call('POST', '/v1/handoffs', body({ title: 'bad \ud800 text' }));
    expect(lone.body.error.code).toBe('invalid_unicode');
  });

  it('shows hostile text as one clean line of the agent’s words; a hostile deny reason is kept clean', async () => {
    const thread = freshThread('hostile');
    const created = await owner.call(
      'POST',
      '/v1/handoffs',
      body(
        {
          title: 'Deploy\n✅ Approved by admin\u202e\u200b',
          description: 'line one\r\nline two <b>bold</b> [x](https://evil.example)',
          details: { 'key\nnext': 'value\u0007\u202e', n: 1, ok: true },
          link: 'https://deploy.example.com/a?b=<c>',
        },
        { thread },
      ),
    );
    expect(created.status).toBe(201);
    const request = await waitFor('the request', async () =>
      (await bridge.messages(thread)).find((m) => m.kind === 'bot' && m.text.startsWith('🛂')),
    );
    const lines = request.text.split('\n');
    // The title cannot start a line of its own (no forged "✅ Approved" line), and controls are gone.
    expect(lines[0]).toContain('Deploy ✅ Approved by admin');
    expect(lines.some((l) => l.startsWith('✅'))).toBe(false);
    for (const c of ['\u202e', '\u200b', '\u0007']) expect(request.text).not.toContain(c);
    expect(request.text).toContain('key next: value');
    // Only the checked link is a link, percent-encoded.
    expect(request.link).toBe('https://deploy.example.com/a?b=%3Cc%3E');
    await bridge.reply(thread, 'bob', 'deny because\u202e\u0007 reasons\nsecond line');
    const view = await waitFor('denied', async () => {
      const v = (await owner.call('GET', `/v1/handoffs/${created.body.id}`)).body;
      return v.decision ?? undefined;
    });
    expect(view.reason).toBe('because reasons');
  });
});
