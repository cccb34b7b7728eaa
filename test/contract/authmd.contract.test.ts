import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/core/clock.js';
import type { AuthMdRegistrationType } from '../../src/sandbox/index.js';
import { createAuthMdProtocol } from '../../src/login/authmd.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { loginProtocols } from '../../src/main.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { claimOnSandbox, codeFromMailbox, startSandboxServer } from '../helpers/sandbox-server.js';
import { describeLoginProtocolContract } from './login-protocol.contract.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * auth.md against the sandbox, once per registration type: each sandbox instance offers only
 * that type, so the protocol has to take it.
 */
const variants: Array<{ label: string; types: AuthMdRegistrationType[]; email: boolean }> = [
  { label: 'user_claimed (browser claim, finish code)', types: ['user_claimed'], email: false },
  { label: 'identity_assertion + verified_email (emailed code)', types: ['identity_assertion'], email: true },
  { label: 'anonymous + claim by email (key upgraded in place)', types: ['anonymous'], email: true },
  { label: 'anonymous + claim in the browser', types: ['anonymous'], email: false },
];

for (const variant of variants) {
  describeLoginProtocolContract(`authmd ${variant.label} against the sandbox`, async () => {
    const service = await startSandboxServer(
      { protocols: ['authmd'], authmdTypes: variant.types, serviceName: 'Sandbox Notes' },
      '/notes',
    );
    const http = createServiceHttp({ policy: developmentPolicy, backoffMs: 10 });
    const discovery = createServiceDiscovery({
      protocols: loginProtocols,
      http,
      cacheTtlMs: 0,
      clock: systemClock,
      policy: developmentPolicy,
    });
    const protocol = createAuthMdProtocol({ http, discovery, clock: systemClock, policy: developmentPolicy });
    const email = `ana-${randomBytes(3).toString('hex')}@example.com`;
    return {
      protocol,
      request: () => ({
        handoffId: `hf_${randomBytes(12).toString('hex')}`,
        service: service.url,
        scopes: ['notes:read'],
        agentId: 'contract-agent',
        correlationId: `corr-${randomBytes(4).toString('hex')}`,
        label: 'contract test',
        ...(variant.email ? { approverEmail: email } : {}),
      }),
      approve: (started) =>
        started.answer === 'email_code' ? codeFromMailbox(service.url, email) : claimOnSandbox(started.approvalUrl!),
      wrongAnswer: (started) => (started.answer === 'email_code' ? '000000' : `acf_${'0'.repeat(32)}`),
      // Email flows: the service bound the claim to the inbox it emailed (the login_hint).
      ...(variant.email ? { approverEmail: email } : {}),
      accepts: async (credential) =>
        (await fetch(`${service.url}/api/me`, { headers: { authorization: `Bearer ${credential.accessToken}` } }))
          .status === 200,
      seenAgentHeaders: () =>
        service.sandbox.state.calls
          .filter((c) => c.path.includes('/agent/') || c.path.includes('/oauth/'))
          .map(({ agentId, correlationId }) => ({ agentId, correlationId })),
      close: service.close,
    };
  });
}
