import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

describe('HTTP API: documented answers to good and bad input', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    // A bridge without the device flow, so one protocol is missing on purpose.
    bridge = await startTestBridge('api', { env: { HANDOFF_PROTOCOLS: 'agent-sessions,authmd' } });
  });
  afterAll(async () => bridge.close());

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${bridge.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bridge.apiToken}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };
  const valid = () => ({ service: `${bridge.url}/sandbox`, thread: freshThread('api'), agent: { id: 'api-agent' } });

  it('creates a handoff: 201 with the documented fields', async () => {
    const res = await call('POST', '/v1/handoffs', {
      ...valid(),
      scopes: ['account:read'],
      approvers: ['alice'],
      expiresInMs: 60_000,
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body!).sort()).toEqual(
      ['createdAt', 'credential', 'expiresAt', 'id', 'kind', 'protocol', 'reused', 'status', 'thread'].sort(),
    );
    // Discovery runs in the driver: until then the protocol is "auto".
    expect(res.body).toMatchObject({
      kind: 'login',
      status: 'pending',
      protocol: 'auto',
      reused: false,
      credential: null,
    });
    expect(res.body!.expiresAt - res.body!.createdAt).toBe(60_000);
    const started = await waitFor('discovery', async () => {
      const view = await call('GET', `/v1/handoffs/${res.body!.id}`);
      return view.body!.status === 'awaiting_human' ? view.body : undefined;
    });
    expect(started).toMatchObject({ protocol: 'agent-sessions', serviceName: 'Sandbox Analytics' });
  });

  it.each([
    ['an unknown thread prefix', { thread: 'nope:x' }, 'unknown_thread_platform', 'thread'],
    ['a malformed local thread', { thread: 'local:has space' }, 'invalid_thread_ref', 'thread'],
    ['a platform that is not configured', { thread: 'slack:C1/1.2' }, 'platform_not_configured', 'thread'],
    ['a service that is not a URL', { service: 'not a url' }, 'invalid_service_url', 'service'],
    ['a service URL with credentials', { service: 'https://u:p@example.com' }, 'invalid_service_url', 'service'],
    ['a missing agent id', { agent: {} }, 'invalid_request', 'agent.id'],
    ['scopes that are not a list', { scopes: 'a,b' }, 'invalid_request', 'scopes'],
    ['an unknown field', { colour: 'blue' }, 'invalid_request', 'colour'],
    ['a protocol name of the wrong shape', { protocol: 'Tele pathy' }, 'invalid_request', 'protocol'],
    ['a protocol no module registers', { protocol: 'telepathy' }, 'unsupported_protocol', 'protocol'],
    ['a protocol this bridge lacks', { protocol: 'device' }, 'unsupported_protocol', 'protocol'],
    ['a lifetime beyond the maximum', { expiresInMs: 365 * 24 * 3_600_000 }, 'invalid_request', 'expiresInMs'],
  ])('answers 400 for %s, naming the field', async (_what, change, code, field) => {
    const res = await call('POST', '/v1/handoffs', { ...valid(), ...change });
    expect(res.status).toBe(400);
    expect(res.body!.error).toMatchObject({ code, field });
    expect(typeof res.body!.error.message).toBe('string');
    expect(res.body!.error.message.length).toBeGreaterThan(10);
  });

  it('answers 400 invalid_json for a body that is not JSON, and for an empty body', async () => {
    expect((await call('POST', '/v1/handoffs', '{"service":')).body!.error.code).toBe('invalid_json');
    expect((await call('POST', '/v1/handoffs')).body!.error.code).toBe('invalid_json');
    expect((await call('POST', '/v1/handoffs', [1, 2])).body!.error.code).toBe('invalid_request');
  });

  it('answers 401 without the API token or with a wrong one', async () => {
    for (const headers of [
      { authorization: '' },
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: 'Basic abc' },
    ]) {
      const res = await call('POST', '/v1/handoffs', valid(), headers);
      expect(res.status).toBe(401);
      expect(res.body!.error.code).toBe('unauthorized');
    }
    expect((await call('GET', '/v1/handoffs/hf_0', undefined, { authorization: '' })).status).toBe(401);
  });

  it('answers 404 for an unknown handoff and an unknown route, 405 for a wrong method', async () => {
    const missing = await call('GET', '/v1/handoffs/hf_000000000000000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body!.error.code).toBe('handoff_not_found');
    expect((await call('GET', '/v2/nothing')).body!.error.code).toBe('route_not_found');
    const wrong = await call('PUT', '/v1/handoffs');
    expect(wrong.status).toBe(405);
    expect(wrong.body!.error.code).toBe('method_not_allowed');
  });

  it('answers 413 for a body over 1 MB without reading it all', async () => {
    const res = await call('POST', '/v1/handoffs', JSON.stringify({ ...valid(), label: 'x'.repeat(1_100_000) }));
    expect(res.status).toBe(413);
    expect(res.body!.error.code).toBe('payload_too_large');
  });

  it('answers 409 for a credential before completion and for cancelling twice', async () => {
    const created = await call('POST', '/v1/handoffs', valid());
    const early = await call('POST', `/v1/handoffs/${created.body!.id}/credential`);
    expect(early.status).toBe(409);
    expect(early.body!.error).toMatchObject({ code: 'handoff_not_completed' });
    expect((await call('DELETE', `/v1/handoffs/${created.body!.id}`)).status).toBe(200);
    const again = await call('DELETE', `/v1/handoffs/${created.body!.id}`);
    expect(again.status).toBe(409);
    expect(again.body!.error).toMatchObject({ code: 'handoff_finished', status: 'cancelled' });
  });

  it('returns the same handoff for the same idempotency key, and refuses the key for a different request', async () => {
    const body = { ...valid(), idempotencyKey: `key-${Date.now()}` };
    const first = await call('POST', '/v1/handoffs', body);
    const second = await call('POST', '/v1/handoffs', body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body!.id).toBe(first.body!.id);
    const other = await call('POST', '/v1/handoffs', { ...body, scopes: ['other'] });
    expect(other.status).toBe(409);
    expect(other.body!.error.code).toBe('idempotency_key_reused');
  });

  it('GET with waitMs answers as soon as the status changes, or after waitMs', async () => {
    const created = await call('POST', '/v1/handoffs', valid());
    const id = created.body!.id as string;
    await waitFor(
      'awaiting_human',
      async () => (await call('GET', `/v1/handoffs/${id}`)).body!.status === 'awaiting_human',
    );

    const idleStart = Date.now();
    const idle = await call('GET', `/v1/handoffs/${id}?waitMs=400`);
    expect(idle.body!.status).toBe('awaiting_human');
    expect(Date.now() - idleStart).toBeGreaterThanOrEqual(380);

    const waiting = call('GET', `/v1/handoffs/${id}?waitMs=20000`);
    const changedAt = Date.now();
    await call('DELETE', `/v1/handoffs/${id}`);
    const changed = await waiting;
    expect(changed.body!.status).toBe('cancelled');
    expect(Date.now() - changedAt).toBeLessThan(5_000);
    expect((await call('GET', `/v1/handoffs/${id}?waitMs=-1`)).body!.error.code).toBe('invalid_request');
  });

  it('never shows secrets in the handoff record', async () => {
    const created = await call('POST', '/v1/handoffs', valid());
    await waitFor('started', async () => (await call('GET', `/v1/handoffs/${created.body!.id}`)).body!.approvalUrl);
    const view = await call('GET', `/v1/handoffs/${created.body!.id}`);
    const text = JSON.stringify(view.body);
    expect(text).not.toMatch(/aap_|poll_?token|verifier|aae_/i);
    expect(view.body).toMatchObject({ credential: null, error: null, completedAt: null });
  });

  it('answers every request with its own request id, and the audit names the caller, source address and request id', async () => {
    const post = await fetch(`${bridge.url}/v1/handoffs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(valid()),
    });
    const created = (await post.json()) as { id: string };
    const createId = post.headers.get('x-request-id');
    expect(createId).toMatch(/^req_[0-9a-f]{24}$/);
    const del = await fetch(`${bridge.url}/v1/handoffs/${created.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${bridge.apiToken}` },
    });
    const deleteId = del.headers.get('x-request-id');
    expect(deleteId).toMatch(/^req_[0-9a-f]{24}$/);
    expect(deleteId).not.toBe(createId);
    // Refusals carry one too, so a person can quote it.
    expect(
      (
        await fetch(`${bridge.url}/v1/handoffs`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } })
      ).headers.get('x-request-id'),
    ).toMatch(/^req_/);

    const audit = await bridge.bridge.engine.audit.recent(50, created.id);
    const source = expect.stringMatching(/^(?:::ffff:)?127\.0\.0\.1$/);
    expect(audit.find((e) => e.event === 'handoff.created')).toMatchObject({
      actor: 'admin',
      source,
      requestId: createId,
    });
    expect(audit.find((e) => e.event === 'handoff.cancelled')).toMatchObject({
      actor: 'admin',
      source,
      requestId: deleteId,
    });
  });

  it('answers health, readiness and metrics', async () => {
    expect((await call('GET', '/healthz')).body).toEqual({ ok: true });
    expect((await call('GET', '/readyz')).body).toMatchObject({ ok: true, redis: 'up' });
    const metrics = await fetch(`${bridge.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/handoff_queue_jobs\{queue="handoffs",state="delayed"\} \d+/);
  });
});
