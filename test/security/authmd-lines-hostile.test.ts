import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { json, requestOrigin, type Route, type RouteRequest } from '../../src/core/http-route.js';
import type { LoginProtocol, LoginRequest, ProtocolSecret, Started } from '../../src/core/login-protocol.js';
import { silentLogger } from '../../src/core/logger.js';
import { createHttpServer } from '../../src/http/http-server.js';
import { createAuthMdProtocol } from '../../src/login/authmd.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { loginProtocols } from '../../src/main.js';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { developmentPolicy } from '../helpers/network.js';
import { confirmOnLinePage } from '../helpers/sandbox-server.js';

/**
 * A hostile auth.md service of the later shapes: the sandbox with some of its answers replaced
 * (routes listed first win). What it may not do: make the bridge poll faster than 2 s or back
 * off forever, show a huge or shaped-wrong code, send the person to another host or a
 * `javascript:` link, steer a call to a private address, or keep the login re-minting forever.
 */
const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

async function hostile(
  line: '0.6' | '0.7',
  overrides: (base: string) => Route[] = () => [],
  options: Partial<SandboxOptions> = {},
  clock: Clock = systemClock,
): Promise<{ protocol: LoginProtocol; sandbox: Sandbox; url: string; request: () => LoginRequest; email: string }> {
  const base = '/evil';
  const sandbox = createSandbox({ protocols: ['authmd'], variant: line, serviceName: 'Evil', ...options }, base);
  const server = createHttpServer({ routes: [...overrides(base), ...sandbox.routes], logger: silentLogger });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${base}`;
  const http = createServiceHttp({ policy: developmentPolicy, backoffMs: 1, retries: 0 });
  const discovery = createServiceDiscovery({
    protocols: loginProtocols,
    http,
    cacheTtlMs: 0,
    clock: systemClock,
    policy: developmentPolicy,
  });
  const protocol = createAuthMdProtocol({ http, discovery, clock, policy: developmentPolicy });
  const email = `ana-${randomBytes(3).toString('hex')}@example.com`;
  return {
    protocol,
    sandbox,
    url,
    email,
    request: () => ({
      handoffId: `hf_${randomBytes(12).toString('hex')}`,
      service: url,
      scopes: [],
      agentId: 'hostile-test',
      correlationId: 'corr-hostile',
      label: 'hostile test',
      approverEmail: email,
    }),
  };
}

const ctx = { agentId: 'hostile-test', correlationId: 'corr-hostile' };
const route = (method: Route['method'], path: string, handler: (req: RouteRequest) => unknown): Route => ({
  method,
  path,
  handler: async (req) => json(...(handler(req) as [number, unknown])),
});

/** The polling line's registration answer with `claim` replaced. */
const pollingRegistration = (base: string, claim: (origin: string) => Record<string, unknown>) =>
  route('POST', `${base}/agent/identity`, (req) => [
    201,
    {
      registration_id: 'reg_1',
      registration_type: 'service_auth',
      claim_token: 'clm_hostile0000000000',
      claim: claim(requestOrigin(req)),
    },
  ]);

/** Polling metadata that offers anonymous registration only (as v0.4/v0.5 services do). */
const anonymousOnlyMetadata = (base: string) =>
  route('GET', `${base}/.well-known/oauth-authorization-server`, (req) => {
    const at = (p: string) => `${requestOrigin(req)}${base}${p}`;
    return [
      200,
      {
        issuer: at(''),
        token_endpoint: at('/oauth2/token'),
        grant_types_supported: [
          'urn:ietf:params:oauth:grant-type:jwt-bearer',
          'urn:workos:agent-auth:grant-type:claim',
        ],
        agent_auth: {
          identity_endpoint: at('/agent/identity'),
          claim_endpoint: at('/agent/identity/claim'),
          identity_types_supported: ['anonymous'],
        },
      },
    ];
  });

describe('auth.md polling line against a hostile service', () => {
  it('never polls faster than 2 s, whatever interval the service names (0, negative, absurd)', async () => {
    for (const interval of [0, -5, 0.001]) {
      const h = await hostile('0.6', (base) => [
        pollingRegistration(base, (origin) => ({
          user_code: '123456',
          expires_in: 600,
          verification_uri: `${origin}${base}/claim/verify/x`,
          interval,
        })),
      ]);
      const started = await h.protocol.start(h.request());
      expect(started.pollIntervalMs).toBe(2_000);
    }
  });

  it('obeys slow_down by 5 s each time but stops growing at 5 minutes when the service never stops saying it', async () => {
    const h = await hostile('0.6', (base) => [
      route('POST', `${base}/oauth2/token`, () => [400, { error: 'slow_down', error_description: 'slow' }]),
    ]);
    const started = await h.protocol.start(h.request());
    let secret: ProtocolSecret = started.secret;
    const seen: number[] = [];
    for (let i = 0; i < 70; i++) {
      const polled = await h.protocol.poll!(secret, ctx);
      if (polled.kind !== 'pending') throw new Error(`expected pending, got ${polled.kind}`);
      seen.push(polled.nextPollMs!);
      secret = polled.secret ?? secret;
    }
    expect(seen[0]).toBe(started.pollIntervalMs! + 5_000);
    expect(seen.every((ms, i) => i === 0 || ms >= seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(300_000);
  });

  it('refuses a huge or oddly shaped user_code instead of posting it', async () => {
    for (const user_code of ['9'.repeat(5_000), '<b>12</b>', '12\n34']) {
      const h = await hostile('0.6', (base) => [
        pollingRegistration(base, (origin) => ({
          user_code,
          verification_uri: `${origin}${base}/claim/verify/x`,
          interval: 5,
        })),
      ]);
      await expect(h.protocol.start(h.request())).rejects.toMatchObject({ code: 'service_malformed_response' });
    }
  });

  it('refuses a verification link on another host, or a javascript: one', async () => {
    for (const link of ['http://127.0.0.2:1/claim', 'javascript:alert(1)', 'https://evil.example/claim']) {
      const h = await hostile('0.6', (base) => [
        pollingRegistration(base, () => ({ user_code: '123456', verification_uri: link, interval: 5 })),
      ]);
      await expect(h.protocol.start(h.request())).rejects.toMatchObject({ code: 'unsafe_approval_url' });
    }
  });

  it('never calls a token endpoint on a private address or another site that the metadata names', async () => {
    for (const [tokenEndpoint, code] of [
      ['http://10.0.0.7/oauth2/token', 'service_address_not_allowed'],
      ['http://127.0.0.2:9/oauth2/token', 'metadata_cross_site'],
    ] as const) {
      const h = await hostile('0.6', (base) => [
        route('GET', `${base}/.well-known/oauth-authorization-server`, (req) => [
          200,
          {
            issuer: `${requestOrigin(req)}${base}`,
            token_endpoint: tokenEndpoint,
            grant_types_supported: ['urn:workos:agent-auth:grant-type:claim'],
            agent_auth: {
              identity_endpoint: `${requestOrigin(req)}${base}/agent/identity`,
              claim_endpoint: `${requestOrigin(req)}${base}/agent/identity/claim`,
              identity_types_supported: ['service_auth'],
            },
          },
        ]),
      ]);
      await expect(h.protocol.start(h.request())).rejects.toMatchObject({ code });
      expect(h.sandbox.state.calls.some((c) => c.path.endsWith('/agent/identity'))).toBe(false);
    }
  });

  it('re-mints an expired code with a fresh link and code at most 3 times, then gives up (service_auth registers again)', async () => {
    // Codes that expire the moment they are minted: every poll answers expired_token.
    const h = await hostile('0.6', () => [], { otpTtlMs: 0 });
    const started = await h.protocol.start(h.request());
    let secret = started.secret;
    const codes = new Set([started.userCode]);
    for (let i = 1; i <= 3; i++) {
      const polled = await h.protocol.poll!(secret, ctx);
      if (polled.kind !== 'restarted') throw new Error(`expected restarted, got ${polled.kind}`);
      expect(polled.started.userCode).toMatch(/^\d{6}$/);
      codes.add(polled.started.userCode);
      secret = polled.started.secret;
    }
    expect(codes.size).toBeGreaterThan(1);
    const last = await h.protocol.poll!(secret, ctx);
    expect(last).toMatchObject({ kind: 'fatal', code: 'too_many_restarts' });
    const calls = (suffix: string) => h.sandbox.state.calls.filter((c) => c.path.endsWith(suffix)).length;
    expect(calls('/agent/identity')).toBe(4);
    expect(calls('/agent/identity/claim')).toBe(0);
  });

  it('re-mints an anonymous claim with the same claim token at most 3 times', async () => {
    const h = await hostile('0.6', (base) => [anonymousOnlyMetadata(base)], { otpTtlMs: 0 });
    const started = await h.protocol.start(h.request());
    let secret = started.secret;
    for (let i = 1; i <= 3; i++) {
      const polled = await h.protocol.poll!(secret, ctx);
      if (polled.kind !== 'restarted') throw new Error(`expected restarted, got ${polled.kind}`);
      secret = polled.started.secret;
    }
    expect(await h.protocol.poll!(secret, ctx)).toMatchObject({ kind: 'fatal', code: 'too_many_restarts' });
    const calls = (suffix: string) => h.sandbox.state.calls.filter((c) => c.path.endsWith(suffix)).length;
    expect(calls('/agent/identity')).toBe(1);
    expect(calls('/agent/identity/claim')).toBe(4);
  });

  it('refuses to send a hostile approver email as login_hint', async () => {
    const h = await hostile('0.6');
    for (const approverEmail of ['a@b.c\r\nX: y', `${'a'.repeat(300)}@example.com`, 'not-an-email']) {
      await expect(h.protocol.start({ ...h.request(), approverEmail })).rejects.toMatchObject({
        code: 'invalid_approver_email',
      });
    }
    expect(h.sandbox.state.calls.some((c) => c.path.endsWith('/agent/identity'))).toBe(false);
  });
});

describe('auth.md read-back line against the sandbox and a hostile service', () => {
  const secretOf = (s: Started) => s.secret;

  it('answers claim_not_confirmed with a hint that is not a wrong attempt, and re-mints nothing', async () => {
    const h = await hostile('0.7');
    const started = await h.protocol.start(h.request());
    const early = await h.protocol.complete(secretOf(started), '123456', ctx);
    expect(early).toMatchObject({ kind: 'wrong_code', code: 'claim_not_confirmed', counts: false });
    const code = await confirmOnLinePage(started.approvalUrl!, h.email);
    expect((await h.protocol.complete(secretOf(started), code, ctx)).kind).toBe('credential');
    expect(h.sandbox.state.calls.filter((c) => c.path.endsWith('/agent/identity/claim')).length).toBe(0);
  });

  it('re-mints only on user_code_expired, posting a new link, and finishes with the new code', async () => {
    // The service's clock can be moved on: the code outlives its 10 minutes after the person authorized.
    let offset = 0;
    const serviceClock: Clock = { now: () => Date.now() + offset };
    const h = await hostile('0.7', () => [], { clock: serviceClock });
    const started = await h.protocol.start(h.request());
    const code = await confirmOnLinePage(started.approvalUrl!, h.email);
    offset = 11 * 60_000;
    const expired = await h.protocol.complete(secretOf(started), code, ctx);
    if (expired.kind !== 'restarted') throw new Error(`expected restarted, got ${expired.kind}`);
    expect(expired.started.approvalUrl).not.toBe(started.approvalUrl);
    expect(expired.started.answer).toBe('page_code');
    expect(h.sandbox.state.calls.filter((c) => c.path.endsWith('/agent/identity/claim')).length).toBe(1);
    // The old code on the new attempt: not confirmed yet, a hint, no second re-mint.
    expect(await h.protocol.complete(expired.started.secret, code, ctx)).toMatchObject({ counts: false });
    const fresh = await confirmOnLinePage(expired.started.approvalUrl!, h.email);
    expect((await h.protocol.complete(expired.started.secret, fresh, ctx)).kind).toBe('credential');
    expect(h.sandbox.state.calls.filter((c) => c.path.endsWith('/agent/identity/claim')).length).toBe(1);
  });

  it('keeps the rotated refresh token: the spent one no longer works, the new one does', async () => {
    // The protocol's clock runs two hours ahead, so the assertion looks expired and it refreshes.
    const ahead: Clock = { now: () => Date.now() + 2 * 3_600_000 };
    const h = await hostile('0.7', () => [], {}, ahead);
    const started = await h.protocol.start(h.request());
    const code = await confirmOnLinePage(started.approvalUrl!, h.email);
    const done = await h.protocol.complete(started.secret, code, ctx);
    if (done.kind !== 'credential') throw new Error(`expected a credential, got ${done.kind}`);
    const first = done.credential;
    expect(first.refreshToken).toBeDefined();
    const second = await h.protocol.refresh!(first, h.url, ctx);
    expect(second.refreshToken).toBeDefined();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // The spent one is refused by the service; the rotated one works.
    await expect(h.protocol.refresh!(first, h.url, ctx)).rejects.toMatchObject({ code: 'refresh_rejected' });
    const third = await h.protocol.refresh!(second, h.url, ctx);
    expect(third.accessToken).not.toBe(second.accessToken);
  });

  it('treats a nested answer as read-back even when the metadata says polling (the answer is the final word)', async () => {
    const h = await hostile('0.7', (base) => [
      route('GET', `${base}/.well-known/oauth-authorization-server`, (req) => {
        const at = (p: string) => `${requestOrigin(req)}${base}${p}`;
        return [
          200,
          {
            issuer: at(''),
            token_endpoint: at('/oauth2/token'),
            grant_types_supported: ['urn:workos:agent-auth:grant-type:claim'],
            agent_auth: {
              identity_endpoint: at('/agent/identity'),
              claim_endpoint: at('/agent/identity/claim'),
              identity_types_supported: ['service_auth'],
            },
          },
        ];
      }),
    ]);
    const started = await h.protocol.start(h.request());
    expect(started).toMatchObject({ protocolVersion: '0.7', answer: 'page_code', polls: false });
    expect(started.userCode).toBeUndefined();
  });

  it('refuses a hostile read-back attempt link', async () => {
    const h = await hostile('0.7', (base) => [
      route('POST', `${base}/agent/identity`, () => [
        201,
        {
          id: 'reg_1',
          type: 'service_auth',
          claim: { token: 'clm_x1234567890', attempt: { verification_uri: 'javascript:alert(document.cookie)' } },
        },
      ]),
    ]);
    await expect(h.protocol.start(h.request())).rejects.toMatchObject({ code: 'unsafe_approval_url' });
  });
});
