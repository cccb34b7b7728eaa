import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { CibaClient } from '../../src/core/config-ciba.js';
import { HandoffError } from '../../src/core/errors.js';
import type { LoginProtocol, PollResult } from '../../src/core/login-protocol.js';
import { createNetworkPolicy } from '../../src/core/network-policy.js';
import { maskSecrets, registerSecretShapes } from '../../src/core/secret-patterns.js';
import { plainSentence } from '../../src/core/sentence.js';
import { clientSecretShapes } from '../../src/login/ciba-client-auth.js';
import { maxCibaIntervalMs } from '../../src/login/ciba-answers.js';
import { createCibaProtocol } from '../../src/login/ciba.js';
import type { CibaMetadata, ServiceDiscovery } from '../../src/login/discovered-service.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * A hostile OpenID CIBA server on loopback: it answers the backchannel request and the token
 * endpoint with whatever the test sets. The bridge must never busy-poll (interval 0, endless
 * slow_down), keep only its own binding message, refuse an auth_req_id it should not store,
 * keep the server's error text out of every message, refuse endpoints on private addresses,
 * and never let the client secret out.
 */
const secret = 'cl1ent-S3cret-value-9f8e7d';
let bcAnswer: { status: number; body: unknown } = { status: 200, body: {} };
let tokenAnswer: { status: number; body: unknown } = { status: 400, body: { error: 'authorization_pending' } };
const bodies: string[] = [];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('a hostile CIBA server', () => {
  let service: FakeServer;
  const clients = (origin: string, kind: 'basic' | 'post' = 'basic'): Record<string, CibaClient> => ({
    [origin]: { clientId: kind === 'post' ? 'handoff-post' : 'handoff', kind: 'secret', secret },
  });
  let authMethods: string[] = ['client_secret_basic'];

  beforeAll(async () => {
    service = await startFakeServer(async (req, res, path) => {
      bodies.push(await readBody(req));
      if (path === '/bc-authorize') return sendJson(res, bcAnswer.status, bcAnswer.body);
      if (path === '/token') return sendJson(res, tokenAnswer.status, tokenAnswer.body);
      sendJson(res, 404, {});
    });
  });
  afterAll(async () => service?.close());
  beforeEach(() => {
    bodies.length = 0;
    authMethods = ['client_secret_basic'];
    bcAnswer = { status: 200, body: { auth_req_id: 'req-1', expires_in: 300, interval: 5 } };
    tokenAnswer = { status: 400, body: { error: 'authorization_pending' } };
  });

  const metadata = (over: Partial<CibaMetadata> = {}): CibaMetadata => ({
    issuer: service.origin,
    backchannelAuthenticationEndpoint: `${service.origin}/bc-authorize`,
    tokenEndpoint: `${service.origin}/token`,
    authMethods,
    signingAlgs: [],
    ...over,
  });
  const protocol = (
    over: Partial<CibaMetadata> = {},
    policy = developmentPolicy,
    kind: 'basic' | 'post' = 'basic',
  ): LoginProtocol => {
    const discovery: ServiceDiscovery = {
      discover: async (url) => ({ service: url, findings: [], ciba: metadata(over) }),
    };
    return createCibaProtocol({
      http: createServiceHttp({ policy, backoffMs: 10, retries: 0 }),
      discovery,
      clock: systemClock,
      policy,
      clients: clients(service.origin, kind),
      bindingCode: () => 'K7QM-4ZPX',
    });
  };
  const request = { handoffId: 'hf_1', scopes: ['ledger:read'], agentId: 'a1', correlationId: 'c1', label: 't' };
  const start = (p = protocol()) =>
    p.start({ ...request, service: service.origin, approverEmail: 'alice@example.com' });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e as HandoffError,
    );
  const ctx = { agentId: 'a1', correlationId: 'c1' };

  it('sends login_hint, our binding message and openid in the scope; the thread note says approve on your device', async () => {
    const started = await start();
    const sent = new URLSearchParams(bodies.at(-1));
    expect(sent.get('login_hint')).toBe('alice@example.com');
    expect(sent.get('binding_message')).toBe('Handoff K7QM-4ZPX');
    expect(sent.get('scope')).toBe('openid ledger:read');
    expect(started.approvalUrl).toBeUndefined();
    expect(started.answer).toBe('done');
    const note = plainSentence(started.note!);
    expect(note).toContain('approve only if it does');
    expect(note).toContain('Handoff K7QM-4ZPX');
  });

  it.each([
    ['0', 0, 5_000],
    ['negative', -3, 5_000],
    ['absent', undefined, 5_000],
    ['a day', 86_400, maxCibaIntervalMs],
  ])('an interval of %s becomes a bounded, non-zero wait', async (_name, interval, expected) => {
    bcAnswer = { status: 200, body: { auth_req_id: 'req-1', expires_in: 300, interval } };
    expect((await start()).pollIntervalMs).toBe(expected);
  });

  it('endless slow_down: each adds 5 s, never past the bound, and the login stays pending (its expiry ends it)', async () => {
    const p = protocol();
    let secretNow = (await start(p)).secret;
    tokenAnswer = { status: 400, body: { error: 'slow_down' } };
    let last: PollResult | undefined;
    for (let i = 0; i < 80; i++) {
      last = await p.poll!(secretNow, ctx);
      expect(last.kind).toBe('pending');
      if (last.kind === 'pending' && last.secret) secretNow = last.secret;
    }
    expect(last).toMatchObject({ kind: 'pending', nextPollMs: maxCibaIntervalMs });
    expect(secretNow.intervalMs).toBe(maxCibaIntervalMs);
  });

  it('a huge binding message echoed back is ignored: the thread shows only our own', async () => {
    const echo = `<script>alert(1)</script>${'Approve now! '.repeat(5_000)}`;
    bcAnswer = { status: 200, body: { auth_req_id: 'req-1', expires_in: 300, binding_message: echo } };
    const note = plainSentence((await start()).note!);
    expect(note).toContain('Handoff K7QM-4ZPX');
    expect(note).not.toContain('script');
    expect(note).not.toContain('Approve now');
  });

  it.each([
    ['huge', 'a'.repeat(5_000)],
    ['with a newline', 'req\n1'],
    ['with spaces', 'req 1'],
    ['non-ASCII', 'réq‮1'],
    ['empty', ''],
  ])('refuses an auth_req_id that is %s', async (_name, authReqId) => {
    bcAnswer = { status: 200, body: { auth_req_id: authReqId, expires_in: 300 } };
    const err = await failure(start());
    expect(err).toBeInstanceOf(HandoffError);
    expect(err?.code).toBe('ciba_invalid_auth_req_id');
  });

  it('keeps the error_description (markup) out of every message, at the start and while polling', async () => {
    const markup = '<a href="https://evil.example">*Approve*</a> <!channel>';
    bcAnswer = { status: 400, body: { error: 'invalid_request', error_description: markup } };
    const err = await failure(start());
    expect(err?.code).toBe('ciba_backchannel_authentication_request_rejected');
    expect(err?.message).not.toContain('evil');
    bcAnswer = { status: 200, body: { auth_req_id: 'req-1', expires_in: 300 } };
    const p = protocol();
    const started = await start(p);
    for (const error of ['access_denied', 'expired_token', 'something_else']) {
      tokenAnswer = { status: 400, body: { error, error_description: markup } };
      const polled = await p.poll!(started.secret, ctx);
      expect(JSON.stringify(polled)).not.toContain('evil');
    }
  });

  it('access_denied fails login_denied; expired_token fails login_expired; invalid_grant is already exchanged', async () => {
    const p = protocol();
    const started = await start(p);
    const outcome = async (error: string) => {
      tokenAnswer = { status: 400, body: { error } };
      return p.poll!(started.secret, ctx);
    };
    expect(await outcome('access_denied')).toMatchObject({ kind: 'fatal', code: 'login_denied' });
    expect(await outcome('expired_token')).toMatchObject({ kind: 'fatal', code: 'login_expired' });
    expect(await outcome('invalid_grant')).toMatchObject({ kind: 'already_exchanged' });
    expect(await outcome('authorization_pending')).toMatchObject({ kind: 'pending', nextPollMs: 5_000 });
    expect(await p.complete(started.secret, 'done', ctx)).toMatchObject({
      kind: 'wrong_code',
      code: 'not_approved_yet',
    });
  });

  it('refuses a token endpoint on a private address (SSRF), before sending anything there', async () => {
    const internal = await startFakeServer((_req, res) => sendJson(res, 200, { access_token: 'x'.repeat(20) }), {
      host: '127.0.0.2',
    });
    try {
      // Production rules: only the service's own origin is allowed despite being loopback.
      const policy = createNetworkPolicy({ production: true, allowedServices: [service.origin] });
      const err = await failure(start(protocol({ tokenEndpoint: `${internal.origin}/token` }, policy)));
      expect(err?.code).toMatch(/^(service_address_not_allowed|metadata_insecure_url)$/);
      expect(internal.requests).toHaveLength(0);
      expect(bodies).toHaveLength(0); // not even the backchannel request was sent
    } finally {
      await internal.close();
    }
  });

  it('requires an approver email, and refuses one that is not a plain address', async () => {
    const p = protocol();
    expect((await failure(p.start({ ...request, service: service.origin })))?.code).toBe('approver_email_required');
    for (const email of ['alice@example.com\nBcc: x@y.z', 'a@b.com, c@d.com', '<alice@example.com>'])
      expect((await failure(p.start({ ...request, service: service.origin, approverEmail: email })))?.code).toBe(
        'invalid_approver_email',
      );
  });

  it('without credentials for the server, fails naming HANDOFF_CIBA_CLIENTS', async () => {
    const discovery: ServiceDiscovery = { discover: async (url) => ({ service: url, findings: [], ciba: metadata() }) };
    const p = createCibaProtocol({
      http: createServiceHttp({ policy: developmentPolicy }),
      discovery,
      clock: systemClock,
      policy: developmentPolicy,
      clients: {},
    });
    const err = await failure(p.start({ ...request, service: service.origin, approverEmail: 'alice@example.com' }));
    expect(err?.code).toBe('ciba_client_not_configured');
    expect(err?.message).toContain('HANDOFF_CIBA_CLIENTS');
  });

  it('authenticates as the metadata allows: basic when listed, else post; the secret never appears in an error', async () => {
    await start();
    const basic = service.requests.at(-1)!.headers.authorization ?? '';
    expect(basic).toMatch(/^Basic /);
    // RFC 6749 §2.3.1: id and secret form-encoded inside the Basic credentials.
    const [id, pass] = Buffer.from(basic.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
    expect([id, pass]).toEqual(['handoff', secret]);
    expect(new URLSearchParams(bodies.at(-1)).get('client_secret')).toBeNull();

    authMethods = ['client_secret_post'];
    await start(protocol({}, developmentPolicy, 'post'));
    expect(service.requests.at(-1)!.headers.authorization).toBeUndefined();
    expect(new URLSearchParams(bodies.at(-1)).get('client_secret')).toBe(secret);

    // A server that echoes the secret back in its error: our error says nothing of it.
    bcAnswer = { status: 401, body: { error: 'invalid_client', error_description: `bad secret ${secret}` } };
    const err = await failure(start());
    expect(err?.code).toBe('ciba_client_rejected');
    expect(`${err?.message} ${JSON.stringify(err)}`).not.toContain(secret);

    authMethods = ['private_key_jwt'];
    expect((await failure(start()))?.code).toBe('ciba_auth_method_unsupported');
  });

  it('masks a configured client secret wherever it would be logged', () => {
    registerSecretShapes(clientSecretShapes(clients(service.origin)));
    expect(maskSecrets(`posting client_secret=${secret}&x=1`)).not.toContain(secret);
  });
});
