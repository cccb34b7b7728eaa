import { describe, expect, it } from 'vitest';
import { renderGithubComment } from '../../adapters/github/github-format.js';
import { renderApproval as renderLinear } from '../../adapters/linear/linear-format.js';
import { renderApproval as renderSlack } from '../../adapters/slack/slack-format.js';
import { renderPlainText, type ApprovalRequestMessage } from '../../src/core/messages.js';
import { say, value } from '../../src/core/sentence.js';

/**
 * An approval request without a link (OpenID CIBA: the person approves on their own device):
 * every platform says so, shows the binding message from the note as a value, and offers no
 * link, no "open" button and no code to paste.
 */
const msg: ApprovalRequestMessage = {
  kind: 'approval_request',
  handoffId: 'hf_0123456789abcdef01234567',
  handoffTag: '#h-0123',
  serviceUrl: 'https://ledger.example.com',
  agentId: 'agent-1',
  scopes: ['ledger:read'],
  answer: 'done',
  expiresAt: Date.UTC(2026, 11, 3, 1, 0),
  approvers: ['U0ALICE001'],
  notes: [say`The device should show ${value('Handoff K7QM-4ZPX')}: approve only if it does.`],
};

describe('an approval request with no link', () => {
  it('plain text: "No link", approve on your device, the binding message', () => {
    const text = renderPlainText(msg);
    expect(text).toContain('No link: the service asks the approver on their own phone or authenticator app.');
    expect(text).toContain('Approve on your device when it asks');
    expect(text).toContain('Handoff K7QM-4ZPX');
    expect(text).not.toMatch(/Approve here|https?:\/\/(?!ledger)/);
  });

  it('Slack: no button to open a page or paste a code; the facts say there is no web link', () => {
    const content = renderSlack(msg, { thread: 'slack:C1/1.2', codeModal: true });
    const blocks = JSON.stringify(content.blocks);
    expect(blocks).not.toContain('"actions"');
    expect(blocks).toContain('no web link');
    expect(blocks).toContain('Approve on your device');
    expect(blocks).toContain('K7QM-4ZPX');
  });

  it('GitHub and Linear: no link to an approval page, the device line and the binding message', () => {
    for (const body of [
      renderGithubComment(msg, 'write'),
      renderLinear(msg, { kind: 'issue_people', assignee: 'Alice', creator: 'Bob' }, Date.UTC(2026, 11, 3)),
    ]) {
      expect(body).not.toContain('Open the approval page');
      expect(body).toContain('No link: the service asks the approver');
      expect(body).toContain('K7QM-4ZPX');
    }
  });
});
