import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServiceJson, wellFormed } from '../../src/login/well-formed.js';
import { startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A lone UTF-16 surrogate written by a service (`"\ud800"` in its JSON) once made a record
 * undecodable by the Lua scripts: stuck `pending`, `DELETE` → 500. Service text is made
 * well-formed where it is read, so the record stays usable.
 */
describe('lone surrogates from a service', () => {
  it('are replaced, in values and keys, nested anywhere', () => {
    expect(parseServiceJson('{"name":"a\\ud800b","list":["\\udc00"],"\\ud83dkey":{"x":"ok \\ud83d\\ude00"}}')).toEqual({
      name: 'a\ufffdb',
      list: ['\ufffd'],
      '\ufffdkey': { x: 'ok 😀' },
    });
    expect(wellFormed(42)).toBe(42);
    expect(parseServiceJson('not json')).toBeUndefined();
  });

  describe('through a whole handoff (real Redis, real BullMQ)', () => {
    let bridge: TestBridge;
    let service: FakeServer;

    beforeAll(async () => {
      service = await startFakeServer((_req, res) => {
        res.writeHead(201, { 'content-type': 'application/json' });
        // Written by hand: a lone high surrogate in the name, a lone low one in the link's path.
        res.end(
          `{"auth_request_id":"ar_1","authorize_url":"${service.origin}/approve/\\udc00x","poll_token":"pt_1","expires_at":${Date.now() + 600_000},"service_name":"Bad \\ud800 Name"}`,
        );
      });
      bridge = await startTestBridge('surrogates');
    });
    afterAll(async () => {
      await bridge?.close();
      await service?.close();
    });

    it('stores well-formed text, and the handoff can still be read and cancelled', async () => {
      const created = await bridge.api.createHandoff({
        service: `${service.origin}/api`,
        protocol: 'agent-sessions',
        thread: freshThread('u'),
        agent: { id: 'agent-u' },
      });
      const view = await waitFor('awaiting_human', async () => {
        const v = await bridge.api.getHandoff(created.id);
        return v.status === 'awaiting_human' ? v : undefined;
      });
      expect(view.serviceName).toBe('Bad \ufffd Name');
      expect(view.approvalUrl!.isWellFormed()).toBe(true);
      expect((await bridge.api.cancelHandoff(created.id)).status).toBe('cancelled');
    });
  });
});
