import { effectiveLimits, type AgentLimits, type AgentPolicy } from '../core/agent-policy.js';
import type { AgentStore } from '../store/agent-store.js';
import type { FileAgent } from '../store/agents-file.js';

/**
 * Every agent the bridge knows: those declared in `HANDOFF_AGENTS_FILE` (read at start, kept
 * in memory, read-only through the API) and those created through the API (in Redis, read
 * at every request, so a rotation or removal holds at once for every process). A file agent
 * wins over an API agent of the same id: the API agent's key then stops working.
 */
export interface KnownAgent {
  readonly id: string;
  readonly policy: AgentPolicy;
  readonly keyHash: string;
  /** `file`: declared in HANDOFF_AGENTS_FILE (read-only here); `api`: created with POST /v1/agents. */
  readonly managedBy: 'file' | 'api';
  /** Epoch ms; absent for file agents. */
  readonly createdAt?: number;
  /** Epoch ms of the last key rotation. */
  readonly keyRotatedAt?: number;
}

export type KeyLookup =
  | { readonly kind: 'live'; readonly agent: KnownAgent }
  | { readonly kind: 'dead'; readonly agentId: string }
  | undefined;

export interface AgentDirectory {
  /** Limits for agents whose policy names none. */
  readonly defaults: AgentLimits;
  /** The API-managed agents' store. */
  readonly store: AgentStore;
  /** The agent declared in the file with this id. */
  fileAgent(id: string): FileAgent | undefined;
  get(id: string): Promise<KnownAgent | undefined>;
  /** File agents first, then API agents by creation time. */
  list(): Promise<KnownAgent[]>;
  /** The agent whose key has this hash; `dead` when it was an agent's rotated or removed key. */
  byKeyHash(keyHash: string): Promise<KeyLookup>;
  /** The agent's limits: its own, else the defaults. */
  limitsOf(agent: KnownAgent): AgentLimits;
}

export function createAgentDirectory(deps: {
  store: AgentStore;
  fileAgents: readonly FileAgent[];
  defaults: AgentLimits;
}): AgentDirectory {
  const { store, defaults } = deps;
  const fromFile = (a: FileAgent): KnownAgent => ({
    id: a.id,
    policy: a.policy,
    keyHash: a.keyHash,
    managedBy: 'file',
  });
  const byId = new Map(deps.fileAgents.map((a) => [a.id, a]));
  const byHash = new Map(deps.fileAgents.map((a) => [a.keyHash, a]));
  return {
    defaults,
    store,
    fileAgent: (id) => byId.get(id),
    async get(id) {
      const file = byId.get(id);
      if (file) return fromFile(file);
      const stored = await store.get(id);
      return stored ? { ...stored, managedBy: 'api' } : undefined;
    },
    async list() {
      const stored = (await store.list()).filter((a) => !byId.has(a.id));
      return [...deps.fileAgents.map(fromFile), ...stored.map((a): KnownAgent => ({ ...a, managedBy: 'api' }))];
    },
    async byKeyHash(keyHash) {
      const file = byHash.get(keyHash);
      if (file) return { kind: 'live', agent: fromFile(file) };
      const found = await store.findByKeyHash(keyHash);
      if (found?.kind !== 'live') return found;
      // Shadowed by the file's agent of the same id: that one's key is the only one.
      if (byId.has(found.agent.id)) return undefined;
      return { kind: 'live', agent: { ...found.agent, managedBy: 'api' } };
    },
    limitsOf: (agent) => effectiveLimits(agent.policy, defaults),
  };
}
