import { randomBytes } from 'node:crypto';
import { createAgentSessionsProtocol } from '../../src/login/agent-sessions.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { approveOnSandbox, startSandboxServer } from '../helpers/sandbox-server.js';
import { describeLoginProtocolContract } from './login-protocol.contract.js';
import { developmentPolicy } from '../helpers/network.js';

describeLoginProtocolContract('agent-sessions against the sandbox', async () => {
  const service = await startSandboxServer();
  const protocol = createAgentSessionsProtocol({
    http: createServiceHttp({ policy: developmentPolicy, backoffMs: 10 }),
  });
  return {
    protocol,
    request: () => ({
      handoffId: `hf_${randomBytes(12).toString('hex')}`,
      service: service.url,
      scopes: ['account:read'],
      agentId: 'contract-agent',
      correlationId: `corr-${randomBytes(4).toString('hex')}`,
      label: 'contract test',
    }),
    approve: (started) => approveOnSandbox(started.approvalUrl!),
    wrongAnswer: () => `aae_${'0'.repeat(48)}`,
    accepts: async (credential) =>
      (await fetch(`${service.url}/api/me`, { headers: { authorization: `Bearer ${credential.accessToken}` } }))
        .status === 200,
    approverEmail: 'alice@example.com',
    seenAgentHeaders: () =>
      service.sandbox.state.calls
        .filter((c) => c.path.includes('/agent-sessions/'))
        .map(({ agentId, correlationId }) => ({ agentId, correlationId })),
    close: service.close,
  };
});
