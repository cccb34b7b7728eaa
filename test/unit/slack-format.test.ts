import { describe, expect, it } from 'vitest';
import { renderApproval, renderNotice, slackText } from '../../adapters/slack/slack-format.js';
import type { ApprovalRequestMessage } from '../../src/core/messages.js';

const approval = (over: Partial<ApprovalRequestMessage> = {}): ApprovalRequestMessage => ({
  kind: 'approval_request',
  handoffId: 'hf_0123456789abcdef01234567',
  handoffTag: '#h-0123',
  serviceName: 'Agent Analytics',
  serviceUrl: 'https://api.example.com',
  agentId: 'report-agent',
  scopes: ['account:read', 'projects:write'],
  approvalUrl: 'https://example.com/authorize/ar_1?x=1&y=2',
  answer: 'finish_code',
  expiresAt: Date.UTC(2026, 10, 22, 8, 30),
  approvers: ['U0ALICE001'],
  ...over,
});
const thread = 'slack:C0FAKE0001/1700000000.000100';
const json = (value: unknown) => JSON.stringify(value);

describe('Slack message formatting', () => {
  it('shows service, agent, scopes, a link button, expiry and who may answer', () => {
    const { text, blocks } = renderApproval(approval(), { thread, codeModal: true });
    const all = json(blocks);
    expect(all).toContain('*Agent Analytics*');
    expect(all).toContain('*report-agent*');
    expect(all).toContain('`account:read` `projects:write`');
    expect(all).toContain('"url":"https://example.com/authorize/ar_1?x=1&y=2"');
    expect(all).toContain('Expires <!date^1795336200^{date_short_pretty} at {time}|2026-11-22 08:30 UTC>');
    expect(all).toContain('Only <@U0ALICE001> may answer.');
    expect(all).toContain('"action_id":"handoff_paste_code"');
    expect(text).toContain('https://example.com/authorize/ar_1?x=1&amp;y=2');
  });

  it('shows the service logo beside the request when Slack can show the image, never an SVG or a non-web URL', () => {
    const logoOf = (serviceLogoUrl: string) => (renderApproval(approval({ serviceLogoUrl }), { thread, codeModal: true }).blocks![0] as { accessory?: unknown }).accessory;
    expect(logoOf('https://cdn.example.com/logos/analytics.png?v=2')).toEqual({ type: 'image', image_url: 'https://cdn.example.com/logos/analytics.png?v=2', alt_text: 'Agent Analytics' });
    expect(logoOf('https://cdn.example.com/logo.svg')).toBeUndefined();
    expect(logoOf('javascript:alert(1)//x.png')).toBeUndefined();
    expect(logoOf('data:image/png;base64,iVBORw0KGgo=.png')).toBeUndefined();
    const without = renderApproval(approval({ serviceLogoUrl: 'https://cdn.example.com/a.png' }), { thread, codeModal: true, logo: false });
    expect(json(without.blocks)).not.toContain('image_url');
  });

  it('keeps the link out of a copy whose link went privately, and names who got it', () => {
    const { text, blocks } = renderApproval(approval({ linkSentPrivately: true }), { thread, codeModal: true });
    expect(json(blocks) + text).not.toContain('ar_1');
    expect(json(blocks)).toContain('The approval link was sent privately to <@U0ALICE001>.');
  });

  it('escapes what agents and services control, so nothing pings a channel or disguises a link', () => {
    const { text, blocks } = renderApproval(
      approval({ agentId: '<!channel>', serviceName: '<https://evil.example|Approve>', scopes: ['a&b'], note: '<!here> look' }),
      { thread, codeModal: true },
    );
    const all = json(blocks) + text;
    expect(all).not.toMatch(/<!channel>|<!here>|<https:\/\/evil/);
    expect(all).toContain('&lt;!channel&gt;');
    expect(all).toContain('a&amp;b');
  });

  it('offers no paste button for "done" answers or with the modal turned off', () => {
    expect(json(renderApproval(approval({ answer: 'done', userCode: 'WDJB-MJHT' }), { thread, codeModal: true }).blocks)).not.toContain('handoff_paste_code');
    expect(json(renderApproval(approval(), { thread, codeModal: false }).blocks)).not.toContain('handoff_paste_code');
    expect(json(renderApproval(approval({ answer: 'email_code' }), { thread, codeModal: true }).blocks)).toContain('Enter the emailed code');
  });

  it('puts a link too long for a button into the text instead', () => {
    const long = `https://example.com/authorize/${'a'.repeat(3100)}`;
    const { blocks } = renderApproval(approval({ approvalUrl: long }), { thread, codeModal: false });
    expect(json(blocks)).not.toContain('handoff_open_link');
    expect(json(blocks)).toContain(long);
  });

  it('posts notices verbatim apart from escaping and mentions', () => {
    expect(renderNotice({ kind: 'notice', handoffId: 'hf_1', event: 'refused', text: 'U0MALLORY1, you cannot answer this request: Only U0ALICE001 may answer. Nothing changed.' })).toEqual({
      text: '<@U0MALLORY1>, you cannot answer this request: Only <@U0ALICE001> may answer. Nothing changed.',
    });
  });

  it('mentions Slack user ids but leaves words, names and URLs alone', () => {
    expect(slackText('Only W0ENT00001, alice and URGENTLY may answer.')).toBe('Only <@W0ENT00001>, alice and URGENTLY may answer.');
    expect(slackText('see https://x.example/U0ALICE001/page')).toBe('see https://x.example/U0ALICE001/page');
  });
});
