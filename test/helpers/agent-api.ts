import type { TestBridge } from './test-bridge.js';

/**
 * The agent API of a test bridge, called with real agent keys: each alias in `agents` names an
 * agent id, which is created through the operator's `POST /v1/agents` (so the real key hashing,
 * lookup, admission and isolation run), and `call` sends the alias's key in its place. Any
 * other token (the bridge's admin token, garbage) is sent as it is.
 */
export interface AgentApi {
  readonly url: string;
  /** The real key behind an alias. */
  keyOf(alias: string): string;
  /** GET/POST/DELETE with a bearer token or an alias; the JSON body (or undefined) and status. */
  call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any; text: string }>;
  /** Removes the agents it created. */
  close(): Promise<void>;
}

export async function createAgentApi(bridge: TestBridge, agents: Readonly<Record<string, string>>): Promise<AgentApi> {
  const url = bridge.url;
  const keys = new Map<string, string>();
  const created: string[] = [];
  for (const [alias, id] of Object.entries(agents)) {
    const existing = [...keys.entries()].find(([other]) => agents[other] === id);
    if (existing) {
      keys.set(alias, existing[1]);
      continue;
    }
    const { apiKey } = await bridge.api.createAgent({ id });
    keys.set(alias, apiKey);
    created.push(id);
  }
  return {
    url,
    keyOf(alias) {
      const key = keys.get(alias);
      if (!key) throw new Error(`no agent key for ${alias}`);
      return key;
    },
    async call(token, method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${keys.get(token) ?? token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, text };
    },
    async close() {
      for (const id of created) await bridge.api.removeAgent(id).catch(() => undefined);
    },
  };
}
