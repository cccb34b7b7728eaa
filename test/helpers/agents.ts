import type { AgentPolicy } from '../../src/core/agent-policy.js';
import { createBridgeClient, type BridgeClient } from '../../src/client/bridge-client.js';
import type { AuditEntry } from '../../src/store/audit-log.js';
import { requestIn } from './agent.js';
import { approveOnSandbox } from './sandbox-server.js';
import type { TestBridge } from './test-bridge.js';
import { freshThread } from './test-bridge.js';
import { waitFor } from './wait.js';

/** An agent created through the bridge's API, with a client that uses its key. */
export interface TestAgent {
  readonly id: string;
  readonly key: string;
  readonly api: BridgeClient;
  /** A raw request with this agent's key: status and parsed body. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
}

export async function createTestAgent(bridge: TestBridge, id: string, policy: AgentPolicy = {}): Promise<TestAgent> {
  const { apiKey } = await bridge.api.createAgent({ id, ...policy });
  return agentWithKey(bridge, id, apiKey);
}

export function agentWithKey(bridge: TestBridge, id: string, key: string): TestAgent {
  return {
    id,
    key,
    api: createBridgeClient({ baseUrl: bridge.url, apiToken: key }),
    call: (method, path, body) => rawCall(bridge.url, key, method, path, body),
  };
}

export async function rawCall(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** A sandbox login by `agent` in a fresh local thread, approved and finished; its handoff and credential ids. */
export async function completedLogin(
  bridge: TestBridge,
  agent: TestAgent,
  path = '/sandbox',
): Promise<{ handoffId: string; credentialId: string; thread: string }> {
  const thread = freshThread(agent.id.slice(0, 10));
  const created = await agent.api.createHandoff({ service: `${bridge.url}${path}`, thread, approvers: ['alice'] });
  const request = await requestIn(bridge, thread);
  await bridge.reply(thread, 'alice', await approveOnSandbox(request.url));
  const view = await waitFor('the login to complete', async () => {
    const v = await agent.api.getHandoff(created.id);
    return v.status === 'completed' ? v : undefined;
  });
  return { handoffId: created.id, credentialId: view.credential!.id, thread };
}

/** Audit entries (newest first) matching `filter`, waiting until at least one is there. */
export async function audited(
  bridge: TestBridge,
  filter: (e: AuditEntry) => boolean,
  timeoutMs = 5_000,
): Promise<AuditEntry[]> {
  return waitFor(
    'an audit entry',
    async () => {
      const found = (await bridge.bridge.engine.audit.recent(2_000)).filter(filter);
      return found.length > 0 ? found : undefined;
    },
    timeoutMs,
  );
}
