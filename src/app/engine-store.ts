import type { EngineDeps } from '../engine/engine-deps.js';
import { createHandoffJobs } from '../queue/handoff-jobs.js';
import { createOutbox } from '../queue/outbox.js';
import type { Queues } from '../queue/queues.js';
import { createAgentDirectory } from '../engine/agent-directory.js';
import type { AgentLimits } from '../core/agent-policy.js';
import { createAgentLimitsStore } from '../store/agent-limits.js';
import { createAgentStore } from '../store/agent-store.js';
import type { FileAgent } from '../store/agents-file.js';
import { createAuditLog } from '../store/audit-log.js';
import type { AuditSink } from '../store/audit-sink.js';
import { createCredentialStore } from '../store/credential-store.js';
import { createHandoffStore } from '../store/handoff-store.js';
import { createIdempotencyStore } from '../store/idempotency-store.js';
import type { Keys } from '../store/keys.js';
import type { Redis } from '../store/redis.js';
import type { Platform } from '../core/thread-ref.js';
import { createVault } from '../store/vault.js';

/** The parts of the engine that talk to Redis. */
export type EngineStore = Pick<
  EngineDeps,
  'store' | 'vault' | 'credentials' | 'idempotency' | 'audit' | 'agents' | 'agentLimits' | 'outbox' | 'jobs'
>;

/**
 * The engine's Redis-bound parts on one connection and its queues. The bridge builds them
 * twice: on its main connection for the workers, and on a connection with a command timeout
 * for the agent API, so a stalled Redis makes the API answer 503 instead of hanging.
 */
export function createEngineStore(deps: {
  redis: Redis;
  queues: Queues;
  keys: Keys;
  vaultKey: Buffer;
  /** Retired vault keys that still open what they sealed. */
  previousVaultKeys: readonly Buffer[];
  now: () => number;
  /** Platforms whose adapter sets no outbound pace: an ending's actions go there as one job. */
  unpacedPlatforms?: readonly Platform[];
  /** Platforms that poll for replies (they need the open-threads index). */
  polledPlatforms: readonly string[];
  /** Agents declared in HANDOFF_AGENTS_FILE, and the limits of agents that name none. */
  agents: { readonly fileAgents: readonly FileAgent[]; readonly limits: AgentLimits };
  /** Where audit entries also go, outside Redis. */
  auditSink?: AuditSink;
}): EngineStore {
  const { redis, keys, queues, now } = deps;
  const vault = createVault({ redis, keys, key: deps.vaultKey, previousKeys: deps.previousVaultKeys });
  return {
    store: createHandoffStore({ redis, keys, now, polledPlatforms: deps.polledPlatforms }),
    vault,
    credentials: createCredentialStore({ redis, keys, vault }),
    idempotency: createIdempotencyStore({ redis, keys }),
    audit: createAuditLog({ redis, keys, now, ...(deps.auditSink ? { sink: deps.auditSink } : {}) }),
    agents: createAgentDirectory({
      store: createAgentStore({ redis, keys }),
      fileAgents: deps.agents.fileAgents,
      defaults: deps.agents.limits,
    }),
    agentLimits: createAgentLimitsStore({ redis, keys }),
    outbox: createOutbox(queues, deps.unpacedPlatforms),
    jobs: createHandoffJobs(queues),
  };
}
