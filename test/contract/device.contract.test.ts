import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/core/clock.js';
import { createDeviceProtocol } from '../../src/login/device.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { loginProtocols } from '../../src/main.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { decideDevice, startSandboxServer } from '../helpers/sandbox-server.js';
import { describeLoginProtocolContract } from './login-protocol.contract.js';
import { developmentPolicy } from '../helpers/network.js';

describeLoginProtocolContract('device (RFC 8628) against the sandbox', async () => {
  // A 1 s interval keeps the contract quick; the sandbox enforces it (slow_down) all the same.
  const service = await startSandboxServer(
    { protocols: ['device'], deviceIntervalSeconds: 1, serviceName: 'Sandbox Files' },
    '/files',
  );
  const http = createServiceHttp({ policy: developmentPolicy, backoffMs: 10 });
  const discovery = createServiceDiscovery({
    protocols: loginProtocols,
    http,
    cacheTtlMs: 0,
    clock: systemClock,
    policy: developmentPolicy,
  });
  const protocol = createDeviceProtocol({
    http,
    discovery,
    clock: systemClock,
    clientId: () => 'contract-client',
    policy: developmentPolicy,
  });
  // Polls of one device code must be an interval apart, as a well-behaved client's are.
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
    }),
    approve: async (started) => {
      await decideDevice(started.approvalUrl!, 'approve', started.userCode);
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
        .filter((c) => c.path.includes('/oauth/'))
        .map(({ agentId, correlationId }) => ({ agentId, correlationId })),
    close: service.close,
  };
});
