import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { botTexts } from '../helpers/agent.js';
import { freshThread, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';
import { startProductionBridge } from './production-bridge.js';

/**
 * Issue #11 item 3, the metadata: a hostile service on 127.0.0.1 (allowlisted) whose 401,
 * resource metadata, authorization-server metadata and answers try to steer the bridge to
 * internal hosts (127.0.0.2, 127.0.0.3, the cloud metadata address) and to echo what it
 * fetched there back through error messages. Every case fails with a specific code; the
 * internal hosts see no request; nothing the service wrote reaches the agent, the thread or
 * the logs.
 */
const marker = 'EXFIL-9f2c1d';

describe('metadata that points elsewhere (production bridge)', () => {
  let bridge: TestBridge;
  let hostile: FakeServer;
  let internal2: FakeServer;
  let internal3: FakeServer;

  const challenge = (res: ServerResponse, metadataUrl: string) =>
    sendJson(
      res,
      401,
      { error: 'unauthorized', message: marker },
      { 'www-authenticate': `Bearer realm="${marker}", resource_metadata="${metadataUrl}"` },
    );

  beforeAll(async () => {
    internal2 = await startFakeServer(
      (_req, res) =>
        sendJson(res, 200, { authorization_servers: [`http://127.0.0.2/${marker}`], resource_name: marker }),
      { host: '127.0.0.2' },
    );
    internal3 = await startFakeServer(
      (_req, res) =>
        sendJson(res, 200, { issuer: marker, device_authorization_endpoint: `http://127.0.0.3/${marker}` }),
      { host: '127.0.0.3' },
    );
    hostile = await startFakeServer((_req, res, path) => {
      const own = hostile.origin;
      const [, name, ...rest] = path.split('/');
      const tail = rest.join('/');
      switch (name) {
        case 'prm-elsewhere':
          return challenge(res, `${internal2.origin}/.well-known/oauth-protected-resource`);
        case 'cloud':
          return challenge(res, 'http://169.254.169.254/latest/meta-data/iam/security-credentials/');
        case 'prm-foreign':
          // An address the policy would allow (https, a public name), but another site.
          return challenge(res, `https://login.evil.example/${marker}`);
        case 'as-elsewhere':
          if (tail === '') return challenge(res, `${own}/as-elsewhere/prm`);
          if (tail === 'prm')
            return sendJson(res, 200, {
              resource: `${own}/as-elsewhere`,
              resource_name: marker,
              authorization_servers: [internal3.origin],
            });
          break;
        case 'endpoints-elsewhere':
          if (tail === '') return challenge(res, `${own}/endpoints-elsewhere/prm`);
          if (tail === 'prm')
            return sendJson(res, 200, {
              resource: `${own}/endpoints-elsewhere`,
              authorization_servers: [`${own}/endpoints-elsewhere`],
            });
          if (tail === '.well-known/oauth-authorization-server') {
            return sendJson(res, 200, {
              issuer: marker,
              device_authorization_endpoint: `${internal2.origin}/device`,
              token_endpoint: `${internal3.origin}/token`,
            });
          }
          break;
        case 'redirect':
          res.writeHead(302, { location: `${internal2.origin}/${marker}` });
          res.end();
          return;
        case 'garbage':
          if (tail === '') return challenge(res, `${own}/garbage/prm`);
          if (tail === 'prm')
            return sendJson(res, 200, { resource_name: marker, authorization_servers: [`not a url ${marker}`] });
          break;
        case 'types':
          if (tail === '') return challenge(res, `${own}/types/prm`);
          if (tail === 'prm')
            return sendJson(res, 200, {
              resource_name: `${marker} Workspace`,
              authorization_servers: [`${own}/types`],
            });
          if (tail === '.well-known/oauth-authorization-server') {
            return sendJson(res, 200, {
              issuer: `${own}/types`,
              agent_auth: {
                register_uri: `${own}/types/register`,
                identity_types_supported: [marker, `<script>${marker}</script>`],
              },
            });
          }
          if (tail === 'agent-sessions/start')
            return sendJson(res, 403, { error: marker, message: `${marker} internal error at 10.0.0.7` });
          break;
      }
      sendJson(res, 404, { error: 'not_found', message: marker });
    });
    bridge = await startProductionBridge('steering');
  });
  afterAll(async () => {
    await bridge?.close();
    for (const server of [hostile, internal2, internal3]) await server?.close();
  });

  async function failure(name: string) {
    const thread = freshThread('steer');
    const created = await bridge.api.createHandoff({
      service: `${hostile.origin}/${name}`,
      thread,
      agent: { id: 'agent-steer' },
    });
    const view = await waitFor(`${name} to fail`, async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'failed' ? v : undefined;
    });
    const notice = await waitFor('the failure notice', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('❌')),
    );
    return { view, notice };
  }

  it.each([
    // Internal addresses are refused as addresses, before the site question.
    ['prm-elsewhere', 'service_address_not_allowed'],
    ['cloud', 'service_address_not_allowed'],
    ['as-elsewhere', 'service_address_not_allowed'],
    ['endpoints-elsewhere', 'service_address_not_allowed'],
    ['prm-foreign', 'metadata_cross_site'],
    // The redirect is not followed; without metadata of its own the service offers nothing.
    ['redirect', 'no_supported_login'],
    ['garbage', 'metadata_invalid'],
  ])('/%s fails with %s, naming the service and nothing it wrote', async (name, code) => {
    const { view, notice } = await failure(name);
    expect(view.error?.code).toBe(code);
    expect(view.error?.message).toContain(hostile.origin);
    expect(view.error?.message).not.toContain(marker);
    expect(notice).not.toContain(marker);
  });

  it('a service that lists unknown registration types and rejects the probe: no_supported_login, without its words', async () => {
    const { view, notice } = await failure('types');
    expect(view.error?.code).toBe('no_supported_login');
    expect(view.error?.message).toContain('2 others');
    expect(view.error?.message).not.toContain(marker);
    expect(view.error?.message).not.toContain('10.0.0.7');
    expect(notice).not.toContain(marker);
  });

  it('the internal hosts were never asked anything, and no log line carries what the service wrote', () => {
    expect(internal2.requests).toEqual([]);
    expect(internal3.requests).toEqual([]);
    expect(bridge.logs.join('\n')).not.toContain(marker);
  });
});
