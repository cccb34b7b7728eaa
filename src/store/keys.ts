import { createHash } from 'node:crypto';

/**
 * Every Redis key the bridge writes, in one place. All start with the configured prefix, so a
 * test can use a random prefix and delete exactly what it wrote.
 */
export interface Keys {
  readonly prefix: string;
  /** Prefix BullMQ uses for its own keys. */
  readonly queuePrefix: string;
  /** Hash: one handoff record. */
  handoff(id: string): string;
  /** Sorted set: recent handoff ids by creation time (for listings). */
  handoffIndex(): string;
  /** Sorted set: threads of a platform with open handoffs, scored by their latest expiry. */
  openThreads(platform: string): string;
  /** Hash: when each poll scope of a platform is next due (epoch ms). */
  pollDue(platform: string): string;
  /** String: a short lease so one process polls a scope at a time. */
  pollLease(platform: string, scope: string): string;
  /** Sorted set: ids of handoffs still open in a thread, scored by creation time. */
  threadHandoffs(threadRef: string): string;
  /** String: handoff id created under an idempotency key (agent and key hashed, so long keys cost nothing). */
  idempotency(agentId: string, key: string): string;
  /** String: an encrypted vault entry. */
  vault(slot: string, id: string): string;
  /** Hash: credential metadata (no secret). */
  credential(id: string): string;
  /** Sorted set: credential ids by creation time. */
  credentials(): string;
  /** String: marks an inbound delivery or platform message as seen. */
  seen(platform: string, kind: 'delivery' | 'message', id: string): string;
  /** Stream: audit trail. */
  audit(): string;
  /** Pub/sub channel: handoff status changes. */
  events(): string;
  /** Stream: one agent's feed of handoff endings (src/store/agent-feed.ts). */
  agentFeed(agentId: string): string;
  /** String: a cached public JSON value (e.g. a service's discovered metadata). */
  cache(namespace: string, id: string): string;
  /** String: a short lock so one process refreshes a credential at a time. */
  credentialLock(id: string): string;
  /** String: an API-managed agent (JSON: id, policy, key hash, times). */
  agent(id: string): string;
  /** Sorted set: API-managed agent ids by creation time. */
  agents(): string;
  /** Hash: agent key hash → agent id (how a presented key finds its agent). */
  agentKeys(): string;
  /** String: the agent id whose key, with this hash, was rotated or removed (for the audit). */
  deadAgentKey(keyHash: string): string;
  /** Sorted set: an agent's open handoffs, scored by expiry (the open-handoff limit). */
  agentOpen(agentId: string): string;
  /** Sorted set: an agent's handoff creations of the last minute, scored by time (the rate limit). */
  agentRate(agentId: string): string;
  /** Sorted set: an agent's recent handoffs by creation time (its listing). */
  agentHandoffs(agentId: string): string;
  /** Sorted set: an agent's credentials by creation time. */
  agentCredentials(agentId: string): string;
  /** String: marks that an event was audited in the current window (floods are audited once). */
  auditOnce(name: string): string;
  /** Sorted set: leases of login calls in flight to one service origin (hashed), scored by expiry. */
  serviceSlots(originHash: string): string;
  /** Hash: one service origin's circuit breaker (failures in a row, open until, last error). */
  serviceBreaker(originHash: string): string;
  /** Sorted set: handoffs waiting for a slot of one origin (or agent share), scored by arrival: woken in that order. */
  serviceWaiters(originHash: string): string;
  /** Any adapter-owned key, e.g. local thread streams. */
  adapter(platform: string, ...parts: string[]): string;
}

/**
 * An agent id as part of a key: as it is when it has the shape of a registered agent's id,
 * else hashed (ids the admin token names are free text, up to 200 characters).
 */
function agentPart(agentId: string): string {
  return /^[a-z0-9][a-z0-9._-]{0,63}$/.test(agentId)
    ? agentId
    : `#${createHash('sha256').update(agentId).digest('base64url').slice(0, 22)}`;
}

export function createKeys(prefix: string): Keys {
  const p = prefix;
  return {
    prefix: p,
    queuePrefix: `${p}:q`,
    handoff: (id) => `${p}:hf:${id}`,
    handoffIndex: () => `${p}:handoffs`,
    openThreads: (platform) => `${p}:open-threads:${platform}`,
    pollDue: (platform) => `${p}:poll-due:${platform}`,
    pollLease: (platform, scope) => `${p}:poll-lease:${platform}:${scope}`,
    threadHandoffs: (ref) => `${p}:thread:${ref}`,
    idempotency: (agentId, key) =>
      `${p}:idem:${createHash('sha256').update(`${agentId}\n${key}`).digest('base64url').slice(0, 22)}`,
    vault: (slot, id) => `${p}:vault:${slot}:${id}`,
    credential: (id) => `${p}:cred:${id}`,
    credentials: () => `${p}:creds`,
    seen: (platform, kind, id) => `${p}:seen:${platform}:${kind}:${id}`,
    audit: () => `${p}:audit`,
    events: () => `${p}:events`,
    agentFeed: (agentId) => `${p}:feed:${agentId}`,
    cache: (namespace, id) => `${p}:cache:${namespace}:${id}`,
    credentialLock: (id) => `${p}:cred-lock:${id}`,
    agent: (id) => `${p}:agent:${agentPart(id)}`,
    agents: () => `${p}:agents`,
    agentKeys: () => `${p}:agent-keys`,
    deadAgentKey: (keyHash) => `${p}:agent-key-dead:${keyHash}`,
    agentOpen: (agentId) => `${p}:agent-open:${agentPart(agentId)}`,
    agentRate: (agentId) => `${p}:agent-rate:${agentPart(agentId)}`,
    agentHandoffs: (agentId) => `${p}:agent-hf:${agentPart(agentId)}`,
    agentCredentials: (agentId) => `${p}:agent-creds:${agentPart(agentId)}`,
    auditOnce: (name) => `${p}:audit-once:${name}`,
    serviceSlots: (hash) => `${p}:svc-slots:${hash}`,
    serviceBreaker: (hash) => `${p}:svc-breaker:${hash}`,
    serviceWaiters: (hash) => `${p}:svc-waiters:${hash}`,
    adapter: (platform, ...parts) => [p, platform, ...parts].join(':'),
  };
}
