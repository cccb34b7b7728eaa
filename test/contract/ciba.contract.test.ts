import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/core/clock.js';
import { createCibaProtocol } from '../../src/login/ciba.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { loginProtocols } from '../../src/main.js';
import { bindingMessageOf, decideOnDevice, sandboxCibaClients } from '../helpers/ciba.js';
import { developmentPolicy } from '../helpers/network.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { describeLoginProtocolContract } from './login-protocol.contract.js';

describeLoginProtocolContract('OpenID CIBA (poll mode) against the sandbox', async () => {
  // A 1 s interval keeps the contract quick; the sandbox enforces it (slow_down) all the same.
  const service = await startSandboxServer(
    { protocols: ['ciba'], cibaIntervalSeconds: 1, serviceName: 'Sandbox Ledger' },
    '/ledger',
  );
  const http = createServiceHttp({ policy: developmentPolicy, backoffMs: 10 });
  const discovery = createServiceDiscovery({
    protocols: loginProtocols,
    http,
    cacheTtlMs: 0,
    clock: systemClock,
    policy: developmentPolicy,
  });
  const protocol = createCibaProtocol({
    http,
    discovery,
    clock: systemClock,
    policy: developmentPolicy,
    clients: sandboxCibaClients(service.origin),
  });
  // Polls of one request must be an interval apart, as a well-behaved client's are.
  const pause = () => new Promise((r) => setTimeout(r, 1_050));
  return {
    protocol,
    request: () => ({
      handoffId: `hf_${randomBytes(12).toString('hex')}`,
      service: service.url,
      scopes: ['account:read'],
      agentId: 'contract-agent',
      correlationId: `corr-${randomBytes(4).toString('hex')}`,
      label: 'contract test',
      approverEmail: 'alice@example.com',
    }),
    approve: async (started) => {
      // The person matches the binding message the thread shows with the one on their device.
      await decideOnDevice(service.url, 'approve', 'alice@example.com', bindingMessageOf(started.note));
      await pause();
      return 'done';
    },
    wrongAnswer: () => undefined,
    accepts: async (credential) =>
      (await fetch(`${service.url}/api/me`, { headers: { authorization: `Bearer ${credential.accessToken}` } }))
        .status === 200,
    approverEmail: 'alice@example.com',
    seenAgentHeaders: () =>
      service.sandbox.state.calls
        .filter((c) => c.path.endsWith('/bc-authorize') || c.path.includes('/oauth/'))
        .map(({ agentId, correlationId }) => ({ agentId, correlationId })),
    close: service.close,
  };
});
