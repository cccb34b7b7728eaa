import { describe, expect, it } from 'vitest';
import { approvalLine, describeHandoff, exitCodeFor, progressLine } from '../../src/client/cli-output.js';
import type { HandoffView } from '../../src/core/wire.js';

const now = Date.UTC(2026, 11, 2, 12, 0, 0);

function view(overrides: Partial<HandoffView> = {}): HandoffView {
  return {
    id: 'hf_0123456789abcdef01234567',
    status: 'awaiting_human',
    thread: 'local:demo',
    service: 'https://notes.example.com',
    serviceName: 'Notes',
    protocol: 'authmd',
    protocolVersion: null,
    agent: { id: 'agent-1', correlationId: '' },
    approvers: [],
    scopes: [],
    approvalUrl: 'https://notes.example.com/claim/reg_1',
    answer: 'finish_code',
    attempts: 0,
    expiresAt: now + 28 * 60_000,
    createdAt: now - 2 * 60_000,
    updatedAt: now - 60_000,
    completedAt: null,
    error: null,
    previousHandoffId: null,
    reused: false,
    credential: null,
    ...overrides,
  };
}

describe('the CLI names the link for what the person does there', () => {
  it('a browser approval that ends with a finish code', () => {
    expect(approvalLine(view())).toBe('approval link (posted in local:demo): https://notes.example.com/claim/reg_1');
    expect(describeHandoff(view())).toContain('  approve   https://notes.example.com/claim/reg_1');
  });

  it('an emailed code: the URL is the service, not a page to approve on', () => {
    const emailed = view({ answer: 'email_code', approvalUrl: 'https://notes.example.com' });
    const line = approvalLine(emailed)!;
    expect(line).toContain('emails the approver a code to answer in local:demo');
    expect(line).not.toContain('approval link');
    expect(describeHandoff(emailed)).toContain('  answer    the code the service emailed the approver');
  });

  it('no link (CIBA): the approver answers on their own device, as the thread shows', () => {
    const ciba = view({ protocol: 'ciba', answer: 'done', approvalUrl: null });
    expect(approvalLine(ciba)).toBe(
      'the service asks the approver on their own device; the thread shows what it should display: local:demo',
    );
    expect(describeHandoff(ciba)).toContain('  answer    on the approver’s own device');
    expect(approvalLine(view({ answer: null, approvalUrl: null }))).toBeNull();
  });

  it('a device code: verify, then answer "done"', () => {
    const device = view({
      protocol: 'device',
      answer: 'done',
      approvalUrl: 'https://files.example.com/activate?user_code=WDJB-MJHT',
    });
    expect(approvalLine(device)).toBe(
      'verification link (posted in local:demo; answer "done" after approving): https://files.example.com/activate?user_code=WDJB-MJHT',
    );
    expect(describeHandoff(device)).toContain('  verify    https://files.example.com/activate?user_code=WDJB-MJHT');
  });

  it('nothing to show before the login has started, nor a link once the handoff has ended', () => {
    expect(approvalLine(view({ status: 'pending', approvalUrl: null, answer: null }))).toBeNull();
    expect(describeHandoff(view({ status: 'expired' }))).not.toContain('reg_1');
  });
});

describe('progress and exit codes', () => {
  it('says what it waits for, where, and how long is left', () => {
    expect(progressLine(view(), now)).toBe('waiting for approval in local:demo (28 min left)');
    expect(progressLine(view({ status: 'completed' }), now)).toBe('completed in local:demo');
  });

  it('maps each ending to its own exit code', () => {
    expect([exitCodeFor('completed'), exitCodeFor('expired'), exitCodeFor('failed'), exitCodeFor('cancelled')]).toEqual(
      [0, 3, 4, 5],
    );
  });
});
