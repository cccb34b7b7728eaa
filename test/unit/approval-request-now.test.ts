import { describe, expect, it } from 'vitest';
import { renderSlackMessage } from '../../adapters/slack/slack-format.js';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { renderPlainText } from '../../src/core/messages.js';
import { approvalRequestNow } from '../../src/engine/approval-notices.js';
import { hostileReason } from '../helpers/approval-edits.js';
import { readMrkdwn, slackTextObjects } from '../helpers/rendered-markup.js';

/** The approval request as an edit renders it (issue #13): open with its votes, or ended. */
const at = Date.UTC(2026, 11, 3, 9, 30);
const base: HandoffRecord = {
  id: 'hf_0123456789abcdef01234567',
  kind: 'approval',
  status: 'awaiting_human',
  version: 3,
  service: '',
  protocol: 'auto',
  thread: 'slack:C0TEST0001/1700000000.000100',
  approvers: [],
  agentId: 'deploy-bot',
  correlationId: 'hf_0123456789abcdef01234567',
  scopes: [],
  createdAt: at - 60_000,
  updatedAt: at,
  expiresAt: at + 30 * 60_000,
  attempts: 0,
  approval: { action: { title: 'Ship 2.0', risk: 'high' }, quorum: 2, onTimeout: 'expire' },
};
const record = (over: Partial<HandoffRecord>): HandoffRecord => ({ ...base, ...over });
const text = (r: HandoffRecord) => renderPlainText(approvalRequestNow(r, 'anyone'));
const slackBlockTypes = (r: HandoffRecord) =>
  (renderSlackMessage(approvalRequestNow(r, 'anyone'), { thread: r.thread, codeModal: true }).blocks ?? []).map(
    (b) => b.type,
  );

describe('the approval request as an edit renders it', () => {
  it('while open: the request, with the approvals so far once there are any', () => {
    expect(approvalRequestNow(base, 'anyone').event).toBe('approval_asked');
    expect(text(base)).not.toContain('Approvals so far');
    const one = record({ votes: { approve: [{ w: 'U0ALICE001', a: at }], deny: [] } });
    expect(text(one)).toContain('Approvals so far: 1 of 2 (U0ALICE001).');
    expect(text(one)).toContain('Reply "approve"');
  });

  it('approved: who and when, the action kept, no way to vote left', () => {
    const done = record({
      status: 'completed',
      decision: {
        outcome: 'approved',
        by: [
          { who: 'alice', at },
          { who: 'bob', at },
        ],
        at,
      },
    });
    const message = approvalRequestNow(done, 'anyone');
    expect(message.event).toBe('approval_settled');
    expect(text(done)).toContain('✅ Approved: agent deploy-bot asked for approval: Ship 2.0');
    expect(text(done)).toContain('Approved by alice, bob at 2026-12-03 09:30 UTC.');
    expect(text(done)).toContain('Risk: high');
    expect(text(done)).not.toMatch(/Reply "approve"|Expires at/);
    expect(slackBlockTypes(done)).not.toContain('actions');
  });

  it('denied by a person (with the reason), by the timeout, expired, cancelled, failed', () => {
    const denied = record({
      status: 'completed',
      votes: { approve: [{ w: 'alice', a: at }], deny: [{ w: 'bob', a: at, r: 'not today' }] },
      decision: { outcome: 'denied', by: [{ who: 'bob', at }], reason: 'not today', at },
    });
    expect(text(denied)).toContain('Denied by bob at 2026-12-03 09:30 UTC.');
    expect(text(denied)).toContain('Reason: not today');
    expect(text(denied)).toContain('Approvals so far: 1 of 2 (alice).');
    const timedOut = record({
      status: 'completed',
      decision: { outcome: 'denied', by: [], reason: 'timed out', at },
    });
    expect(text(timedOut)).toContain('Denied (nobody decided in time) at 2026-12-03 09:30 UTC.');
    expect(text(record({ status: 'expired' }))).toContain('Nobody decided by 2026-12-03 10:00 UTC: nothing is done.');
    const cancelled = record({ status: 'cancelled', error: { code: 'cancelled', message: 'Cancelled by ops.' } });
    expect(text(cancelled)).toMatch(/^⏹ Cancelled: .*\nCancelled at 2026-12-03 09:30 UTC\.\nCancelled by ops\./);
    const failed = record({ status: 'failed', error: { code: 'slack_refused', message: 'Slack refused.' } });
    expect(text(failed)).toMatch(/^⚠️ Failed: .*\nFailed at 2026-12-03 09:30 UTC\.\nSlack refused\./);
    for (const r of [denied, timedOut, cancelled, failed]) expect(slackBlockTypes(r)).not.toContain('actions');
  });

  it('hostile words in the title, details and reason make no Slack token once ended either', () => {
    const hostile = record({
      status: 'completed',
      approval: {
        action: { title: hostileReason, details: { '<!here>': '<https://evil.example|ok>' } },
        quorum: 1,
        onTimeout: 'expire',
      },
      decision: { outcome: 'denied', by: [{ who: 'U0BOB00001', at }], reason: hostileReason, at },
    });
    const content = renderSlackMessage(approvalRequestNow(hostile, 'anyone'), {
      thread: hostile.thread,
      codeModal: true,
    });
    for (const t of [content.text, ...slackTextObjects(content.blocks).map((o) => o.text)]) {
      const facts = readMrkdwn(t);
      for (const token of facts.tokens) expect(token).toBe('@U0BOB00001');
      expect(facts.strayBrackets).toBe(false);
    }
  });
});
