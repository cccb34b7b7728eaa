import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/core/clock.js';
import { createAuthMdProtocol } from '../../src/login/authmd.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { loginProtocols } from '../../src/main.js';
import { confirmOnLinePage, startSandboxServer } from '../helpers/sandbox-server.js';
import { developmentPolicy } from '../helpers/network.js';
import { describeLoginProtocolContract } from './login-protocol.contract.js';

/**
 * auth.md's later shapes against the sandbox, through the same harness as v0.1
 * (authmd.contract.test.ts): the polling line (the person types the thread's code on the page;
 * the bridge polls) and the read-back line (the person presses Authorize and pastes the page's
 * code), each with service_auth (the approver's email as login_hint) and with anonymous + claim
 * (the claim started with that email).
 */

const variants = [
  { line: '0.6', plan: 'service_auth' },
  { line: '0.6', plan: 'anonymous' },
  { line: '0.7', plan: 'service_auth' },
  { line: '0.7', plan: 'anonymous' },
] as const;

for (const { line, plan } of variants) {
  describeLoginProtocolContract(
    `authmd ${line === '0.6' ? 'v0.6 polling' : 'v0.7 read-back'} (${plan === 'anonymous' ? 'anonymous + claim' : 'service_auth'}) against the sandbox`,
    async () => {
      const service = await startSandboxServer(
        {
          protocols: ['authmd'],
          variant: line,
          serviceName: 'Sandbox Tasks',
          deviceIntervalSeconds: 1,
          ...(plan === 'anonymous' ? { authmdTypes: ['anonymous'] as const } : {}),
        },
        '/tasks',
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
          approverEmail: email,
        }),
        approve: (started) => confirmOnLinePage(started.approvalUrl!, email, started.userCode),
        // Read-back: a code of the right shape the page did not show. Polling: "done" before confirming.
        wrongAnswer: () => (line === '0.7' ? '000000' : undefined),
        approverEmail: email,
        accepts: async (credential) =>
          (await fetch(`${service.url}/api/me`, { headers: { authorization: `Bearer ${credential.accessToken}` } }))
            .status === 200,
        seenAgentHeaders: () =>
          service.sandbox.state.calls
            .filter((c) => c.path.includes('/agent/') || c.path.includes('/oauth'))
            .map(({ agentId, correlationId }) => ({ agentId, correlationId })),
        close: service.close,
      };
    },
  );
}
