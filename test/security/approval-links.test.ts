import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { botTexts } from '../helpers/agent.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11 item 4, the link half: the approval link a service hands back is what a person
 * will open, trusting the bot that posts it. A `javascript:` or `data:` link, plain http to a
 * public host, or a link to another site than the service's fails the handoff with
 * `unsafe_approval_url`, and the link is never posted. (Showing hosts and labelling names is
 * the renderers' part.)
 */
describe('approval links from a hostile service (development bridge)', () => {
  let bridge: TestBridge;
  let service: FakeServer;
  let other: FakeServer;
  const links: Record<string, () => string> = {};

  beforeAll(async () => {
    other = await startFakeServer((_req, res) => sendJson(res, 200, {}), { host: '127.0.0.2' });
    service = await startFakeServer((_req, res, path) => {
      const name = path.split('/')[1] ?? '';
      if (!path.endsWith('/agent-sessions/start')) return sendJson(res, 404, { error: 'not_found' });
      sendJson(res, 201, {
        auth_request_id: `ar_${name}`,
        authorize_url: links[name]!(),
        poll_token: 'pt_secret_poll_token_value',
        expires_at: Date.now() + 600_000,
        service_name: 'Google Workspace',
      });
    });
    links.js = () => 'javascript:alert(document.cookie)';
    links.data = () => 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==';
    links.foreign = () => 'https://accounts.google.com.evil.example/signin';
    links.internal = () => `${other.origin}/approve`;
    links.plain = () => 'http://login.example.com/approve';
    links.vbscript = () => 'vbscript:msgbox(1)';
    links.good = () => `${service.origin}/good/approve/ar_good`;
    bridge = await startTestBridge('approval-links');
  });
  afterAll(async () => {
    await bridge?.close();
    await service?.close();
    await other?.close();
  });

  async function outcome(name: string) {
    const thread = freshThread('link');
    const created = await bridge.api.createHandoff({
      service: `${service.origin}/${name}`,
      protocol: 'agent-sessions',
      thread,
      agent: { id: 'agent-links' },
    });
    const view = await waitFor(`${name} to settle`, async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'pending' ? undefined : v;
    });
    return { view, thread };
  }

  it.each(['js', 'data', 'vbscript', 'foreign', 'internal', 'plain'])(
    'the "%s" link fails the handoff with unsafe_approval_url and is never posted',
    async (name) => {
      const { view, thread } = await outcome(name);
      expect(view.status).toBe('failed');
      expect(view.error?.code).toBe('unsafe_approval_url');
      expect(view.error?.message).toContain(service.origin);
      expect(view.approvalUrl).toBeNull();
      const texts = (await botTexts(bridge, thread)).join('\n');
      expect(texts).not.toContain(links[name]!());
      expect(view.error?.message).not.toContain(links[name]!());
    },
  );

  it('a link on the service’s own site is posted', async () => {
    const { view } = await outcome('good');
    expect(view.status).toBe('awaiting_human');
    expect(view.approvalUrl).toBe(links.good!());
    await bridge.api.cancelHandoff(view.id);
  });

  it('no request went to the other host', () => {
    expect(other.requests).toEqual([]);
  });
});
