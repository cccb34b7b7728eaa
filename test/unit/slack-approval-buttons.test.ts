import { describe, expect, it } from 'vitest';
import { approvalButtons, newLinkButton } from '../../adapters/slack/slack-handoff-buttons.js';
import { renderNotice, renderSlackMessage } from '../../adapters/slack/slack-format.js';
import { parseInteraction } from '../../adapters/slack/slack-interactions.js';
import { parseSlackMessageId } from '../../adapters/slack/slack-thread.js';
import { say, value } from '../../src/core/sentence.js';
import { approvalButtonClick, denySubmission } from '../fixtures/slack/slack-fixtures.js';

/** Approve and Deny (issue #13): the buttons, and clicks and deny submissions read from Slack's payloads. */
const at = 1_700_000_999_000;
const thread = 'slack:C0FAKE0001/1700000000.000100';
const click = (
  action: 'approve' | 'deny',
  v = 'hf_0123',
  where = { channel: 'C0FAKE0001', threadTs: '1700000000.000100' },
) => approvalButtonClick({ action, value: v, user: 'U0BOB00001', username: 'bob', ...where });

describe('Slack approval buttons', () => {
  it('puts Approve and Deny, valued with the handoff id alone, on an approval request and on nothing else', () => {
    const asked = renderNotice({ kind: 'notice', handoffId: 'hf_0123', event: 'approval_asked', text: say`May I?` });
    expect(asked.blocks?.at(-1)).toEqual(approvalButtons('hf_0123'));
    expect(approvalButtons('hf_0123').elements.map((e) => ('value' in e ? e.value : undefined))).toEqual([
      'hf_0123',
      'hf_0123',
    ]);
    const settled = renderNotice({ kind: 'notice', handoffId: 'hf_0123', event: 'approval_settled', text: say`Done` });
    expect(JSON.stringify(settled.blocks)).not.toContain('handoff_approve');
    const refused = renderNotice({
      kind: 'notice',
      handoffId: 'hf_0123',
      event: 'refused',
      text: say`No ${value('x')}`,
    });
    expect(refused.blocks?.some((b) => b.type === 'actions')).toBe(false);
  });

  it('reads an Approve click as the clicker’s "approve" for the handoff, in the thread Slack says, answered privately', () => {
    const payload = click('approve');
    expect(parseInteraction(payload, at)).toEqual({
      kind: 'reply',
      reply: {
        platform: 'slack',
        thread,
        handoffId: 'hf_0123',
        answerPrivately: true,
        author: { id: 'U0BOB00001', name: 'bob' },
        text: 'approve',
        messageRef: { platform: 'slack', thread, id: `click:${payload.trigger_id}` },
        deliveryId: `click:${payload.trigger_id}`,
        receivedAt: at,
      },
    });
    expect(parseSlackMessageId(`click:${payload.trigger_id}`)).toEqual({
      kind: 'click',
      triggerId: payload.trigger_id,
    });
  });

  it('takes the thread from the clicked message, never from the value', () => {
    const payload = click('approve', 'hf_0123', { channel: 'C0OTHER001', threadTs: '1700000500.000200' });
    const outcome = parseInteraction(payload, at);
    expect(outcome).toMatchObject({ kind: 'reply', reply: { thread: 'slack:C0OTHER001/1700000500.000200' } });
  });

  it('ignores malformed values, a missing thread, a missing user and a malformed trigger id', () => {
    for (const v of ['', 'hf_', 'hf_01/23', '{"handoffId":"hf_0123"}', `hf_${'a'.repeat(65)}`, 'local:demo'])
      expect(parseInteraction(click('approve', v), at)).toMatchObject({ kind: 'ignored' });
    const noThread = click('approve');
    delete noThread.container.thread_ts;
    delete noThread.message.thread_ts;
    expect(parseInteraction(noThread, at).kind).toBe('ignored');
    const badThread = click('approve');
    badThread.container.thread_ts = '1700000000.000100/../x';
    expect(parseInteraction(badThread, at).kind).toBe('ignored');
    const noUser = click('approve');
    noUser.user = { name: 'bob' };
    expect(parseInteraction(noUser, at).kind).toBe('ignored');
    const badTrigger = click('deny');
    badTrigger.trigger_id = 'x:y';
    expect(parseInteraction(badTrigger, at).kind).toBe('ignored');
  });

  it('opens the deny modal on Deny, carrying the handoff and the clicked thread', () => {
    const payload = click('deny');
    const outcome = parseInteraction(payload, at);
    expect(outcome).toMatchObject({
      kind: 'open_modal',
      triggerId: payload.trigger_id,
      view: { type: 'modal', callback_id: 'handoff_deny' },
    });
    const metadata = JSON.parse(String((outcome as { view: { private_metadata: string } }).view.private_metadata));
    expect(metadata).toEqual({ thread, handoffId: 'hf_0123' });
  });

  it('reads a deny submission as "deny <reason>" on one line, or "deny" without one; the view id is the delivery', () => {
    const metadata = JSON.stringify({ thread, handoffId: 'hf_0123' });
    const submit = (reason: string | null) =>
      parseInteraction(
        denySubmission({
          viewId: 'V0DENY0001',
          privateMetadata: metadata,
          reason,
          user: 'U0BOB00001',
          username: 'bob',
        }),
        at,
      );
    expect(submit('too\n\n  risky\ttoday')).toEqual({
      kind: 'reply',
      reply: {
        platform: 'slack',
        thread,
        handoffId: 'hf_0123',
        answerPrivately: true,
        author: { id: 'U0BOB00001', name: 'bob' },
        text: 'deny too risky today',
        messageRef: { platform: 'slack', thread, id: 'view:V0DENY0001' },
        deliveryId: 'view:V0DENY0001',
        receivedAt: at,
      },
      ack: { response_action: 'clear' },
    });
    expect(submit(null)).toMatchObject({ kind: 'reply', reply: { text: 'deny' } });
    expect(submit('   ')).toMatchObject({ kind: 'reply', reply: { text: 'deny' } });
  });

  it('ignores a deny submission whose metadata is not the bridge’s', () => {
    for (const metadata of [
      '',
      'not json',
      JSON.stringify({ thread: 'local:x', handoffId: 'hf_1' }),
      JSON.stringify({ thread }),
    ]) {
      const payload = denySubmission({
        viewId: 'V0DENY0002',
        privateMetadata: metadata,
        reason: 'no',
        user: 'U0BOB00001',
        username: 'bob',
      });
      expect(parseInteraction(payload, at).kind).toBe('ignored');
    }
  });
});

describe('Slack "New link" button (issue #14)', () => {
  const request = {
    kind: 'approval_request' as const,
    handoffId: 'hf_0123',
    handoffTag: '#h-0123',
    serviceUrl: 'https://api.example.com',
    agentId: 'agent-1',
    scopes: [],
    approvalUrl: 'https://login.example.com/approve/abc',
    answer: 'finish_code' as const,
    expiresAt: at + 600_000,
    approvers: [],
  };
  const actionsOf = (msg: Parameters<typeof renderSlackMessage>[0]) =>
    renderSlackMessage(msg, { thread, codeModal: true }).blocks!.filter((b) => b.type === 'actions');
  const newLinkClick = (o: { blockId?: string; actionId?: string; v?: string } = {}) => {
    const payload = approvalButtonClick({
      action: 'new_link',
      value: o.v ?? 'hf_0123',
      user: 'U0BOB00001',
      username: 'bob',
      channel: 'C0FAKE0001',
      threadTs: '1700000000.000100',
      ...(o.blockId ? { blockId: o.blockId } : {}),
    });
    if (o.actionId) payload.actions[0].action_id = o.actionId;
    return payload;
  };

  it('is on a login request whose link can time out, valued with the handoff id, its block naming the link version', () => {
    const [actions] = actionsOf({ ...request, freshLink: { version: 2 } });
    expect(actions).toMatchObject({ type: 'actions', block_id: 'handoff_login_v2' });
    expect(JSON.stringify(actions)).toContain('"action_id":"handoff_new_link"');
    expect((actions as { elements: Array<{ action_id: string; value?: string }> }).elements.at(-1)).toEqual(
      newLinkButton('hf_0123'),
    );
    expect(JSON.stringify(actionsOf(request))).not.toContain('handoff_new_link');
  });

  it('reads a click as the clicker’s "new link" for that handoff, with the version its block named', () => {
    const out = parseInteraction(newLinkClick({ blockId: 'handoff_login_v1' }), at);
    expect(out).toMatchObject({
      kind: 'reply',
      reply: { thread, handoffId: 'hf_0123', text: 'new link', answerPrivately: true, linkVersion: 1 },
    });
    // A block id that is not the bridge's names no version: the engine then goes by the time received.
    for (const blockId of ['handoff_login_v-1', 'handoff_login_v99999', 'x', 'handoff_login_v1 '])
      expect((parseInteraction(newLinkClick({ blockId }), at) as { reply: object }).reply).not.toHaveProperty(
        'linkVersion',
      );
  });

  it('ignores action ids that only look like ours, and values that are no handoff id', () => {
    for (const actionId of ['toString', '__proto__', 'constructor', 'handoff_new_link2'])
      expect(parseInteraction(newLinkClick({ actionId }), at).kind).toBe('ignored');
    for (const v of ['', 'hf_', '{"handoffId":"hf_0123"}', 'hf_0123 '])
      expect(parseInteraction(newLinkClick({ v }), at).kind).toBe('ignored');
  });
});
