import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { HandoffError } from '../../src/core/errors.js';
import { renderPlainText } from '../../src/core/messages.js';
import { approvalMessage } from '../../src/engine/approval-message.js';
import { notices } from '../../src/engine/notices.js';
import { shownText } from '../fakes/slack/fake-slack-state.js';
import { startPlatformFakes, type PlatformFakes } from '../helpers/platform-fakes.js';
import { readMarkdown, slackTextObjects, slackValues } from '../helpers/rendered-markup.js';

/**
 * Issue #11, "phishing relay": a service named itself "Google Workspace" with an approval link
 * on accounts.google.com.evil.example, and Slack showed neither host; Slack DMed the link to
 * approvers outside the channel. Now every platform shows, as text, the service's host and the
 * host the link opens, and labels the name as the service's own claim; the DM is opt-in.
 * Through each platform's SDK against its fake (no packet leaves loopback: the evil hosts are
 * only strings in a message).
 */
const evil: HandoffRecord = {
  id: 'hf_0123456789abcdef0123phis',
  kind: 'login',
  status: 'awaiting_human',
  version: 2,
  service: 'https://api.google.com.evil.example',
  serviceName: 'Google Workspace',
  serviceLogoUrl: 'https://api.google.com.evil.example/google-logo.png',
  protocol: 'authmd',
  thread: 'local:x',
  approvers: [],
  agentId: 'report-agent',
  correlationId: 'c1',
  scopes: ['gmail.readonly'],
  createdAt: 0,
  updatedAt: 0,
  expiresAt: Date.now() + 10 * 60_000,
  approvalUrl: 'https://accounts.google.com.evil.example/o/oauth2/auth?client=1',
  answer: 'finish_code',
  attempts: 0,
};

describe('phishing relay: hosts shown, self-declared names labelled (GitHub, Linear, Slack fakes)', () => {
  let p: PlatformFakes;
  beforeAll(async () => {
    p = await startPlatformFakes('security-phishing');
  });
  afterAll(async () => p?.close());

  it('GitHub: both hosts as code, the name and logo labelled, the only link the approval link', async () => {
    const { adapter, thread } = p.github;
    await adapter.post(adapter.parseThread(thread), approvalMessage(evil));
    const body = p.github.bodies().at(-1)!;
    const md = readMarkdown(body);
    expect(md.code).toEqual(
      expect.arrayContaining(['api.google.com.evil.example', 'accounts.google.com.evil.example', 'Google Workspace']),
    );
    expect(body).toContain('log in to `api.google.com.evil.example` (calls itself `Google Workspace`)');
    expect(body).toContain('The link opens `accounts.google.com.evil.example`.');
    expect(body).toContain('The logo, like the name, is the service’s own claim.');
    expect(md.links).toEqual([evil.approvalUrl]);
  });

  it('Linear: both hosts as code and the name labelled', async () => {
    const { adapter, thread } = p.linear;
    await adapter.post(adapter.parseThread(thread), approvalMessage(evil));
    const body = p.linear.bodies().at(-1)!;
    expect(body).toContain('log in to `api.google.com.evil.example` (calls itself `Google Workspace`)');
    expect(body).toContain('The link opens `accounts.google.com.evil.example`.');
    expect(readMarkdown(body).links).toEqual([evil.approvalUrl]);
  });

  it('Slack: the service host and the link host as plain-text fields beside the button, the name and logo in a line that calls them a claim', async () => {
    const { adapter, thread } = p.slack;
    await adapter.post(adapter.parseThread(thread), approvalMessage(evil));
    const message = p.slack.messages().at(-1)!;
    const plain = slackTextObjects(message.blocks)
      .filter((o) => o.type === 'plain_text')
      .map((o) => o.text);
    expect(plain).toContain('api.google.com.evil.example');
    expect(plain).toContain('accounts.google.com.evil.example');
    expect(plain.find((t) => t.includes('Google Workspace'))).toBe(
      'The service calls itself “Google Workspace”. That name is the service’s own claim; its host is the one above.',
    );
    expect(slackValues(message.blocks, 'url')).toEqual([evil.approvalUrl]);
    expect(shownText(message)).toMatch(
      /\*Service\*\napi\.google\.com\.evil\.example\n\*The link opens\*\naccounts\.google\.com\.evil\.example/,
    );
    // The notification text says the same.
    expect(message.text).toContain('`api.google.com.evil.example` (calls itself `Google Workspace`)');
    expect(message.text).toContain('The link opens `accounts.google.com.evil.example`.');
    // Link previews stay off and Slack parses nothing by itself.
    const call = p.slack.fake.callsOf('chat.postMessage').at(-1)!;
    expect(call.params).toMatchObject({ unfurl_links: false, unfurl_media: false, parse: 'none', link_names: false });
  });

  it('local: both hosts in the text, the name labelled', () => {
    const text = renderPlainText(approvalMessage(evil));
    expect(text).toContain('log in to api.google.com.evil.example (calls itself “Google Workspace”)');
    expect(text).toContain(`Approve here: ${evil.approvalUrl} (The link opens accounts.google.com.evil.example.)`);
  });

  it('notices name the service by its host too, with the name labelled', () => {
    expect(renderPlainText(notices.completed(evil, ['gmail.readonly'], true))).toMatch(
      /^✅ Logged in to api\.google\.com\.evil\.example \(calls itself “Google Workspace”\)/,
    );
  });

  it('Slack: no direct message to an approver outside the channel unless SLACK_DM_OUTSIDE_CHANNEL allows it', async () => {
    const { adapter, thread } = p.slack;
    const t = adapter.parseThread(thread);
    const message = approvalMessage({ ...evil, approvers: ['U0BOB00001'] });
    const err = await adapter.postPrivately!(t, { id: 'U0BOB00001' }, message).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HandoffError);
    expect(err).toMatchObject({ code: 'approver_not_in_channel', retry: 'never' });
    expect((err as Error).message).toContain('SLACK_DM_OUTSIDE_CHANNEL=on');
    expect(p.slack.directMessages()).toEqual([]);
    // A member of the channel still gets the link privately (ephemeral), as before.
    await adapter.postPrivately!(t, { id: 'U0ALICE001' }, message);
    expect(p.slack.fake.state.ephemeral.filter((e) => e.user === 'U0ALICE001')).toHaveLength(1);
  });
});

describe('phishing relay: the direct message, when the operator allows it', () => {
  let p: PlatformFakes;
  beforeAll(async () => {
    p = await startPlatformFakes('security-phishing-dm', { slackDmOutsideChannel: true });
  });
  afterAll(async () => p?.close());

  it('goes out, and still shows both hosts and the label', async () => {
    const { adapter, thread } = p.slack;
    await adapter.postPrivately!(
      adapter.parseThread(thread),
      { id: 'U0BOB00001' },
      approvalMessage({ ...evil, approvers: ['U0BOB00001'] }),
    );
    const [dm] = p.slack.directMessages();
    expect(dm).toBeDefined();
    expect(shownText(dm!)).toContain('accounts.google.com.evil.example');
    expect(shownText(dm!)).toContain('calls itself “Google Workspace”');
  });
});
