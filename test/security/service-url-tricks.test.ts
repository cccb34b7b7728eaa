import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeApiError } from '../../src/client/bridge-client.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11 item 3, the path: a `?` in the service URL once turned the protocol's fixed path
 * into a query, so the bridge POSTed to a path the agent chose (`/admin/delete?` +
 * `/agent-sessions/start`). Service URLs with a query, a fragment or credentials are refused
 * when the handoff is created; protocol paths are built as path segments, so even an encoded
 * `?` in the service's path stays a path.
 */
describe('service URL tricks', () => {
  let bridge: TestBridge;
  let service: FakeServer;
  const rawUrls: string[] = [];

  beforeAll(async () => {
    service = await startFakeServer((req, res) => {
      rawUrls.push(req.url ?? '');
      sendJson(res, 400, { error: 'MISSING_FIELDS' });
    });
    bridge = await startTestBridge('url-tricks');
  });
  afterAll(async () => {
    await bridge?.close();
    await service?.close();
  });

  async function refusal(value: string) {
    const err = await bridge.api
      .createHandoff({ service: value, protocol: 'agent-sessions', thread: freshThread('q'), agent: { id: 'agent-q' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeApiError);
    return err as BridgeApiError;
  }

  it.each([
    ['a query that would swallow the protocol path', (o: string) => `${o}/admin/delete?`],
    ['a query with a value', (o: string) => `${o}/admin/delete?confirm=yes&x=`],
    ['a fragment', (o: string) => `${o}/api#`],
    ['a fragment with text', (o: string) => `${o}/api#/agent-sessions/start`],
  ])('%s → 400 service_url_has_query, and no request is made', async (_what, build) => {
    const err = await refusal(build(service.origin));
    expect(err.status).toBe(400);
    expect(err.code).toBe('service_url_has_query');
    expect(service.requests).toEqual([]);
  });

  it('credentials in the URL → 400 invalid_service_url, never repeated back', async () => {
    const err = await refusal(`http://admin:hunter2@127.0.0.1:${new URL(service.origin).port}/api`);
    expect(err.code).toBe('invalid_service_url');
    expect(err.message).not.toContain('hunter2');
  });

  it('an encoded ? in the service path stays part of the path', async () => {
    const created = await bridge.api.createHandoff({
      service: `${service.origin}/api%3Fadmin=1`,
      protocol: 'agent-sessions',
      thread: freshThread('enc'),
      agent: { id: 'agent-enc' },
    });
    await waitFor('the start call', () => service.requests.length >= 1);
    expect(rawUrls[0]).toBe('/api%3Fadmin=1/agent-sessions/start');
    expect(new URL(rawUrls[0]!, service.origin).search).toBe('');
    await waitFor('the handoff to fail', async () =>
      (await bridge.api.getHandoff(created.id)).status === 'failed' ? true : undefined,
    );
  });
});
