import { describe, expect, it } from 'vitest';
import { commentIdFor, derivedUuid } from '../../adapters/linear/linear-comment-id.js';
import { describeApproverLine, renderApproval, renderNotice } from '../../adapters/linear/linear-format.js';
import type { ApprovalRequestMessage, NoticeMessage } from '../../src/core/messages.js';
import { say } from '../../src/core/sentence.js';

const now = Date.UTC(2026, 10, 20, 10, 0);
const approval = (over: Partial<ApprovalRequestMessage> = {}): ApprovalRequestMessage => ({
  kind: 'approval_request',
  handoffId: 'hf_0123456789abcdef01234567',
  handoffTag: '#h-0123',
  serviceName: 'Agent Analytics',
  serviceUrl: 'https://api.analytics.example',
  agentId: 'nightly-report',
  scopes: ['account:read', 'projects:read'],
  approvalUrl: 'https://analytics.example/authorize/ar_123',
  answer: 'finish_code',
  expiresAt: now + 30 * 60_000,
  approvers: [],
  ...over,
});

describe('Linear comment bodies', () => {
  it('say who asks for what, the link and the host it opens, what to send back, who may answer and until when', () => {
    const body = renderApproval(approval(), { kind: 'issue_people', assignee: 'Alice', creator: 'Bob' }, now);
    expect(body.split('\n\n')).toEqual([
      '🔐 Agent `nightly-report` asks you to log in to `api.analytics.example` (calls itself `Agent Analytics`) with scopes `account:read`, `projects:read`.',
      '**[Open the approval page](<https://analytics.example/authorize/ar_123>)** The link opens `analytics.example`.',
      'Open the link, sign in and approve, then **reply to this comment with the finish code** the page shows.',
      "Only this issue's assignee (`Alice`) or creator (`Bob`) may answer. Expires at 2026-11-20 10:30 UTC (in 30 min).",
      'Tag `#h-0123`: a reply to this comment answers this request.',
      '_handoff `hf_0123456789abcdef01234567`_',
    ]);
  });

  it('keep outside text from becoming markup or links', () => {
    const body = renderApproval(
      approval({
        serviceName: 'Evil](https://phish.example) **x**',
        agentId: 'a`b',
        approvalUrl: 'https://s.example/a (b)',
        notes: [say`Mail sent to ${'a_b@example.com'}`],
      }),
      { kind: 'named', names: ['m_a_x'] },
      now,
    );
    expect(body).toContain('(calls itself `Evil](https://phish.example) **x**`)');
    expect(body).toContain('[Open the approval page](<https://s.example/a%20(b)>)');
    expect(body).toContain('Agent `aˋb`');
    expect(body).toContain('Mail sent to `a_b@example.com`');
    expect(body).toContain('Only `m_a_x` may answer.');
    expect(renderNotice(say`${{ person: 'u1', name: 'mallory_x' }}, you cannot answer [this]`)).toBe(
      '`mallory_x`, you cannot answer \\[this\\]',
    );
  });

  it('leave the link out when it went privately, and show device codes only in their RFC 8628 shape', () => {
    const body = renderApproval(
      approval({ linkSentPrivately: true, answer: 'done', userCode: 'WDJB-MJHT' }),
      { kind: 'named', names: ['alice'] },
      now,
    );
    expect(body).not.toContain('ar_123');
    expect(body).toContain('sent to the approver privately');
    expect(body).toContain('enter the code `WDJB-MJHT`');
    const odd = renderApproval(
      approval({ answer: 'done', userCode: 'WDJB`](http://e)' }),
      { kind: 'named', names: ['alice'] },
      now,
    );
    expect(odd).toContain('Open the link and approve, then reply **done**');
    expect(odd).not.toContain('http://e');
  });

  it('say plainly who may answer, for refusals', () => {
    expect(renderNotice(describeApproverLine({ kind: 'issue_people', creator: 'b_b' }))).toBe(
      "Only this issue's creator (`b_b`) may answer.",
    );
    expect(renderNotice(describeApproverLine({ kind: 'issue_people' }))).toMatch(/has neither yet/);
  });
});

describe('Linear comment ids', () => {
  const notice = (text: string): NoticeMessage => ({
    kind: 'notice',
    handoffId: 'hf_1',
    event: 'wrong_code',
    text: [text],
  });

  it('are UUIDs in v4 layout, the same for the same input', () => {
    const id = derivedUuid('a', 'b');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedUuid('a', 'b')).toBe(id);
    expect(derivedUuid('ab')).not.toBe(id);
  });

  it('follow the outbound job: a retry keeps the id, another job gets another', () => {
    const msg = notice('That code did not work.');
    expect(commentIdFor(msg, 'x', { idempotencyKey: '7' })).toBe(commentIdFor(msg, 'y', { idempotencyKey: '7' }));
    expect(commentIdFor(msg, 'x', { idempotencyKey: '8' })).not.toBe(commentIdFor(msg, 'x', { idempotencyKey: '7' }));
    expect(commentIdFor({ ...msg, handoffId: 'hf_2' }, 'x', { idempotencyKey: '7' })).not.toBe(
      commentIdFor(msg, 'x', { idempotencyKey: '7' }),
    );
    // Without a job, the text decides.
    expect(commentIdFor(msg, 'x')).toBe(commentIdFor(msg, 'x'));
    expect(commentIdFor(msg, 'x')).not.toBe(commentIdFor(msg, 'y'));
  });
});
