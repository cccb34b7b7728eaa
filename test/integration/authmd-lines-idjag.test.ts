import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { AssertionProvider } from '../../src/login/authmd-line-state.js';
import { createAuthMdProtocol } from '../../src/login/authmd.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { loginProtocols } from '../../src/main.js';
import { developmentPolicy } from '../helpers/network.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';

/**
 * With an assertion provider configured, auth.md's later lines register with an ID-JAG
 * (`identity_assertion`) instead of asking anyone for an email: the sandbox answers a clean
 * registration, the bridge exchanges the service's assertion (jwt-bearer) for a working token.
 * The audience is the authorization server's issuer without a trailing slash (the reference
 * rejects anything else as `expired`).
 */
const jwt = (payload: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"none","typ":"oauth-id-jag+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

for (const line of ['0.6', '0.7'] as const) {
  describe(`auth.md ${line} with an ID-JAG provider`, () => {
    let service: Awaited<ReturnType<typeof startSandboxServer>>;
    const asked: Array<{ audience: string; service: string }> = [];
    let audienceOverride: string | undefined;
    const provider: AssertionProvider = {
      idJag: (input) => {
        asked.push(input);
        return Promise.resolve(jwt({ aud: audienceOverride ?? input.audience, email: 'ida@example.com', jti: 'j1' }));
      },
    };
    beforeAll(async () => {
      service = await startSandboxServer(
        { protocols: ['authmd'], variant: line, serviceName: 'Sandbox Tasks' },
        '/idjag',
      );
    });
    afterAll(() => service.close());

    const protocolWith = (p?: AssertionProvider) => {
      const http = createServiceHttp({ policy: developmentPolicy, backoffMs: 1 });
      const discovery = createServiceDiscovery({
        protocols: loginProtocols,
        http,
        cacheTtlMs: 0,
        clock: systemClock,
        policy: developmentPolicy,
      });
      return createAuthMdProtocol({
        http,
        discovery,
        clock: systemClock,
        policy: developmentPolicy,
        ...(p ? { assertionProvider: p } : {}),
      });
    };
    const request = () => ({
      handoffId: 'hf_idjag',
      service: service.url,
      scopes: [],
      agentId: 'agent-idjag',
      correlationId: 'corr-idjag',
      label: 'id-jag',
    });

    it('registers with the provider’s assertion (audience = issuer), needs no email, and exchanges for a working token', async () => {
      const protocol = protocolWith(provider);
      const started = await protocol.start(request());
      expect(asked.at(-1)).toEqual({ audience: service.url, service: service.url });
      expect(started).toMatchObject({ answer: 'done', protocolVersion: line });
      const polled = await protocol.poll!(started.secret, { agentId: 'agent-idjag', correlationId: 'corr-idjag' });
      if (polled.kind !== 'credential') throw new Error(`expected a credential, got ${polled.kind}`);
      const me = await fetch(`${service.url}/api/me`, {
        headers: { authorization: `Bearer ${polled.credential.accessToken}` },
      });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { account: { email: string } }).account.email).toBe('ida@example.com');
    });

    it('without a provider asks for an email instead of registering', async () => {
      await expect(protocolWith().start(request())).rejects.toMatchObject({ code: 'approver_email_required' });
    });

    it('fails the start, naming no service text, when the service refuses the assertion', async () => {
      audienceOverride = `${service.url}/`;
      try {
        const err = await protocolWith(provider)
          .start(request())
          .catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'registration_rejected', upstreamStatus: 400 });
        expect((err as Error).message).not.toContain('exp check');
      } finally {
        audienceOverride = undefined;
      }
    });
  });
}
