import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { IdJagIssuerConfig } from '../../src/core/config-id-jag.js';
import type { LoginRequest } from '../../src/core/login-protocol.js';
import { createAuthMdProtocol } from '../../src/login/authmd.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { createIdJagIssuer } from '../../src/login/id-jag-issuer.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { loginProtocols } from '../../src/main.js';
import { developmentPolicy } from '../helpers/network.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';

/**
 * With the bridge configured as an ID-JAG issuer (HANDOFF_ID_JAG_*), auth.md's later lines
 * register with an `identity_assertion` the bridge signs for the approver — only at a service
 * the operator lists, that lists the type, for an email the platform directory vouches for.
 * The sandbox verifies the signature against the issuer's public key, the audience (the
 * issuer without a trailing slash, pitfall 1), `jti` once and the times.
 */
const issuer = 'https://handoff.example.com';
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keys = ec();

for (const line of ['0.6', '0.7'] as const) {
  describe(`auth.md ${line} with the bridge as ID-JAG issuer`, () => {
    let service: Awaited<ReturnType<typeof startSandboxServer>>;
    let unlisted: Awaited<ReturnType<typeof startSandboxServer>>;
    let untrusting: Awaited<ReturnType<typeof startSandboxServer>>;
    const trusted = (key: KeyObject) => ({ [issuer]: key });
    beforeAll(async () => {
      const common = { protocols: ['authmd'] as const, variant: line, serviceName: 'Sandbox Tasks' };
      service = await startSandboxServer(
        { ...common, protocols: ['authmd'], idJagIssuers: trusted(keys.publicKey) },
        '/idjag',
      );
      unlisted = await startSandboxServer(
        {
          ...common,
          protocols: ['authmd'],
          authmdTypes: ['user_claimed', 'anonymous'],
          idJagIssuers: trusted(keys.publicKey),
        },
        '/unlisted',
      );
      untrusting = await startSandboxServer(
        { ...common, protocols: ['authmd'], idJagIssuers: trusted(ec().publicKey) },
        '/untrusting',
      );
    });
    afterAll(async () => {
      await Promise.all([service.close(), unlisted.close(), untrusting.close()]);
    });

    const config = (services: string[]): IdJagIssuerConfig => ({ issuer, key: keys.privateKey, services });
    const protocolWith = (services: string[] | undefined) => {
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
        ...(services ? { assertionProvider: createIdJagIssuer(config(services), systemClock) } : {}),
      });
    };
    const request = (url: string, fromDirectory = true): LoginRequest => ({
      handoffId: 'hf_idjag',
      service: url,
      scopes: [],
      agentId: 'agent-idjag',
      correlationId: 'corr-idjag',
      label: 'id-jag',
      approverEmail: 'Ida@Example.com',
      ...(fromDirectory ? { approverEmailFromDirectory: true } : {}),
    });
    const planOf = (secret: unknown) => (secret as { plan: string }).plan;
    const allowAll = () => [service.origin];

    it('registers with a signed ID-JAG for the approver, waits for "done", and exchanges for a working token', async () => {
      const protocol = protocolWith(allowAll());
      const started = await protocol.start(request(service.url));
      expect(planOf(started.secret)).toBe('identity_assertion');
      expect(started).toMatchObject({ answer: 'done', protocolVersion: line, polls: false });
      const ctx = { agentId: 'agent-idjag', correlationId: 'c' };
      // Nothing happens at the service for this: a poll never lets the agent in, only the approver's word.
      expect((await protocol.poll!(started.secret, ctx)).kind).toBe('pending');
      const done = await protocol.complete(started.secret, 'done', ctx);
      if (done.kind !== 'credential') throw new Error(`expected a credential, got ${done.kind}`);
      const me = await fetch(`${service.url}/api/me`, {
        headers: { authorization: `Bearer ${done.credential.accessToken}` },
      });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { account: { email: string } }).account.email).toBe('ida@example.com');
      // The credential revokes (RFC 7009).
      await protocol.revoke!(done.credential, service.url, ctx);
      const after = await fetch(`${service.url}/api/me`, {
        headers: { authorization: `Bearer ${done.credential.accessToken}` },
      });
      expect(after.status).toBe(401);
    });

    it('sends no ID-JAG for an email that is only the agent’s word: service_auth instead', async () => {
      const started = await protocolWith(allowAll()).start(request(service.url, false));
      expect(planOf(started.secret)).toBe('service_auth');
    });

    it('sends no ID-JAG to a service the operator does not list', async () => {
      const started = await protocolWith(['https://elsewhere.example.com']).start(request(service.url));
      expect(planOf(started.secret)).toBe('service_auth');
    });

    it('sends no ID-JAG to a service whose metadata does not list identity_assertion', async () => {
      const started = await protocolWith([unlisted.origin]).start(request(unlisted.url));
      expect(planOf(started.secret)).toBe('service_auth');
    });

    it('fails the start, naming neither the assertion nor service text, when the service trusts another key', async () => {
      const err = await protocolWith([untrusting.origin])
        .start(request(untrusting.url))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'registration_rejected',
        upstreamStatus: 400,
        upstreamCode: 'invalid_signature',
      });
      expect((err as Error).message).not.toMatch(/eyJ|signature does not verify/);
    });
  });
}
