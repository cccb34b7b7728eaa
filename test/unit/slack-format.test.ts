import { describe, expect, it } from 'vitest';
import { renderApproval, renderNotice } from '../../adapters/slack/slack-format.js';
import { isSlackUserId, slackPerson } from '../../adapters/slack/slack-mrkdwn.js';
import { describeApprovers, type ApprovalRequestMessage, type NoticeMessage } from '../../src/core/messages.js';
import { say } from '../../src/core/sentence.js';

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
  it('shows agent, service host, the host the link opens, scopes, a link button, expiry and who may answer', () => {
    const { text, blocks } = renderApproval(approval(), { thread, codeModal: true });
    const all = json(blocks);
    expect(all).toContain('{"type":"plain_text","text":"report-agent"}');
    expect(all).toContain('{"type":"plain_text","text":"api.example.com"}');
    expect(all).toContain(
      '{"type":"mrkdwn","text":"*The link opens*","verbatim":true},{"type":"plain_text","text":"example.com"}',
    );
    expect(all).toContain('{"type":"plain_text","text":"account:read, projects:write"}');
    expect(all).toContain('The service calls itself “Agent Analytics”. That name is the service’s own claim');
    expect(all).toContain('"url":"https://example.com/authorize/ar_1?x=1&y=2"');
    expect(all).toContain('Expires <!date^1795336200^{date_short_pretty} at {time}|2026-11-22 08:30 UTC>');
    expect(all).toContain('Only <@U0ALICE001> may answer.');
    expect(all).toContain('"action_id":"handoff_paste_code"');
    expect(text).toContain('asks you to log in to `api.example.com` (calls itself `Agent Analytics`)');
    expect(text).toContain('The link opens `example.com`.');
    // Every mrkdwn object is verbatim: Slack link-ifies nothing in it by itself.
    for (const obj of all.match(/\{"type":"mrkdwn"[^{}]*\}/g) ?? []) expect(obj).toContain('"verbatim":true');
  });

  it('shows the service logo beside the label that says it is the service’s claim, never an SVG or a non-web URL', () => {
    const logoOf = (serviceLogoUrl: string) =>
      json(renderApproval(approval({ serviceLogoUrl }), { thread, codeModal: true }).blocks).match(
        /"image_url":"([^"]*)"/,
      )?.[1];
    expect(logoOf('https://cdn.example.com/logos/analytics.png?v=2')).toBe(
      'https://cdn.example.com/logos/analytics.png?v=2',
    );
    expect(
      json(
        renderApproval(approval({ serviceLogoUrl: 'https://cdn.example.com/a.png' }), { thread, codeModal: true })
          .blocks,
      ),
    ).toContain(
      '{"type":"context","elements":[{"type":"image","image_url":"https://cdn.example.com/a.png","alt_text":"logo the service shows for itself"},{"type":"plain_text","text":"The service calls itself',
    );
    expect(logoOf('https://cdn.example.com/logo.svg')).toBeUndefined();
    expect(logoOf('javascript:alert(1)//x.png')).toBeUndefined();
    expect(logoOf('data:image/png;base64,iVBORw0KGgo=.png')).toBeUndefined();
    const without = renderApproval(approval({ serviceLogoUrl: 'https://cdn.example.com/a.png' }), {
      thread,
      codeModal: true,
      logo: false,
    });
    expect(json(without.blocks)).not.toContain('image_url');
  });

  it('keeps the link out of a copy whose link went privately, and names who got it', () => {
    const { text, blocks } = renderApproval(approval({ linkSentPrivately: true }), { thread, codeModal: true });
    expect(json(blocks) + text).not.toContain('ar_1');
    expect(json(blocks)).toContain('The approval link was sent privately to <@U0ALICE001>.');
  });

  it('escapes what agents and services control, so nothing pings a channel or disguises a link', () => {
    const { text, blocks } = renderApproval(
      approval({
        agentId: '<!channel>',
        serviceName: '<https://evil.example|Approve>',
        scopes: ['a&b'],
        notes: [say`${'<!here> look U0MALLORY1'}`],
      }),
      { thread, codeModal: true },
    );
    const all = json(blocks) + text;
    // Slack parses `<…>` only in mrkdwn; plain_text shows it as typed.
    const parsed = [text, ...(all.match(/\{"type":"mrkdwn","text":"[^"]*"/g) ?? [])].join('\n');
    expect(parsed).not.toMatch(/<!channel>|<!here>|<https:\/\/evil|<@U0MALLORY1>/);
    expect(text).toContain('`&lt;!channel&gt;`');
    expect(all).toContain('`&lt;!here&gt; look U0MALLORY1`');
    expect(all).toContain('{"type":"plain_text","text":"<!channel>"}');
  });

  it('offers no paste button for "done" answers or with the modal turned off', () => {
    expect(
      json(renderApproval(approval({ answer: 'done', userCode: 'WDJB-MJHT' }), { thread, codeModal: true }).blocks),
    ).not.toContain('handoff_paste_code');
    expect(json(renderApproval(approval(), { thread, codeModal: false }).blocks)).not.toContain('handoff_paste_code');
    expect(json(renderApproval(approval({ answer: 'email_code' }), { thread, codeModal: true }).blocks)).toContain(
      'Enter the emailed code',
    );
  });

  it('says so when a link is too long for a button, and never prints it as text', () => {
    const long = `https://example.com/authorize/${'a'.repeat(3100)}`;
    const { blocks } = renderApproval(approval({ approvalUrl: long }), { thread, codeModal: false });
    expect(json(blocks)).not.toContain('handoff_open_link');
    expect(json(blocks)).not.toContain('aaaaaaaaaa');
    expect(json(blocks)).toContain('too long for a Slack button');
  });

  it('shows no link at all for a URL that is not http(s)', () => {
    const { text, blocks } = renderApproval(approval({ approvalUrl: 'javascript:alert(1)' }), {
      thread,
      codeModal: false,
    });
    expect(json(blocks) + text).not.toContain('javascript');
    expect(json(blocks)).toContain('{"type":"plain_text","text":"no web link"}');
  });

  it('renders notices from their parts: people the bridge resolved are mentions, ids in foreign text are not', () => {
    const refused: NoticeMessage = {
      kind: 'notice',
      handoffId: 'hf_1',
      event: 'refused',
      text: say`${{ person: 'U0MALLORY1' }}, you cannot answer this request: ${describeApprovers(['U0ALICE001'])} ${'W0ENT00001 <!here>'}`,
    };
    expect(renderNotice(refused)).toEqual({
      text: '<@U0MALLORY1>, you cannot answer this request: Only <@U0ALICE001> may answer. `W0ENT00001 &lt;!here&gt;`',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '<@U0MALLORY1>, you cannot answer this request: Only <@U0ALICE001> may answer. `W0ENT00001 &lt;!here&gt;`',
            verbatim: true,
          },
        },
      ],
    });
    // A "person" whose id is no Slack user id is shown, not mentioned.
    expect(slackPerson({ person: 'alice <!here>' })).toBe('`alice &lt;!here&gt;`');
    expect(isSlackUserId('URGENTLYX')).toBe(false);
  });
});
