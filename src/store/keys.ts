import { createHash } from 'node:crypto';

/**
 * Every Redis key the bridge writes, in one place. All start with the configured prefix, so a
 * test can use a random prefix and delete exactly what it wrote.
 */
export interface Keys {
  readonly prefix: string;
  /** What every BullMQ key starts with; each queue adds its own tag (queueKeyPrefix in src/queue/queue-names.ts). */
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
  /** Sorted set: credential ids by last use (the last retrieval, or creation when never retrieved). */
  credentialsByLastUse(): string;
  /** Sorted set: refreshable credential ids by when their next refresh is due. */
  credentialsRefreshDue(): string;
  /** String: marks an inbound delivery or platform message as seen. */
  seen(platform: string, kind: 'delivery' | 'message', id: string): string;
  /** Stream: audit trail (in the `{hf}` tag: the script that ends a handoff appends its entry). */
  audit(): string;
  /** Pub/sub channel: handoff status changes. */
  events(): string;
  /** Stream: one agent's feed of handoff endings (src/store/agent-feed.ts). */
  agentFeed(agentId: string): string;
  /** String: a cached public JSON value (e.g. a service's discovered metadata). */
  cache(namespace: string, id: string): string;
  /** String: a short lock so one process refreshes a credential at a time. */
  credentialLock(id: string): string;
  /** String: a short lock so one process sweeps credentials past their life at a time. */
  credentialSweepLock(): string;
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
  /** Any adapter-owned key (its key-value store's keys: `adapter(platform)` is their prefix). */
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

/**
 * Redis Cluster hash tags (docs/operations.md, "What shares a slot"). A cluster runs a script,
 * a MULTI or an MGET only on keys of one slot, so keys used together share a `{tag}`, placed
 * right after the prefix (a prefix with its own `{…}` puts every key in that one slot, which
 * is correct too). Keys always used alone have no tag and spread over the cluster by name.
 * On one server a tag is only part of the name.
 */
export const hashTags = {
  /** Handoff records and everything written with them: thread, agent and recent indexes, agent feeds, the audit stream, inbound dedupe. */
  handoffs: 'hf',
  /** API-managed agents, their key-hash index and dead keys. */
  agents: 'agents',
  /** Credential metadata and its indexes (the sealed secrets are untagged vault keys). */
  credentials: 'creds',
  /** One platform's poll schedule and leases. */
  poll: (platform: string) => `poll:${platform}`,
  /** One service origin's (or agent share's) slots, breaker and waiters. */
  service: (hash: string) => `svc:${hash}`,
  /** One adapter's own keys (its key-value store reads several at once). */
  adapter: (platform: string) => platform,
} as const;

export function createKeys(prefix: string): Keys {
  const p = prefix;
  const hf = `${p}:{${hashTags.handoffs}}`;
  const agents = `${p}:{${hashTags.agents}}`;
  const creds = `${p}:{${hashTags.credentials}}`;
  return {
    prefix: p,
    queuePrefix: `${p}:q`,
    handoff: (id) => `${hf}:hf:${id}`,
    handoffIndex: () => `${hf}:handoffs`,
    openThreads: (platform) => `${hf}:open-threads:${platform}`,
    pollDue: (platform) => `${p}:{${hashTags.poll(platform)}}:poll-due`,
    pollLease: (platform, scope) => `${p}:{${hashTags.poll(platform)}}:poll-lease:${scope}`,
    threadHandoffs: (ref) => `${hf}:thread:${ref}`,
    idempotency: (agentId, key) =>
      `${p}:idem:${createHash('sha256').update(`${agentId}\n${key}`).digest('base64url').slice(0, 22)}`,
    // Untagged: a vault entry is sealed under its key's name, which must not change.
    vault: (slot, id) => `${p}:vault:${slot}:${id}`,
    credential: (id) => `${creds}:cred:${id}`,
    credentials: () => `${creds}:creds`,
    credentialsByLastUse: () => `${creds}:creds-used`,
    credentialsRefreshDue: () => `${creds}:creds-refresh`,
    seen: (platform, kind, id) => `${hf}:seen:${platform}:${kind}:${id}`,
    audit: () => `${hf}:audit`,
    events: () => `${p}:events`,
    agentFeed: (agentId) => `${hf}:feed:${agentId}`,
    cache: (namespace, id) => `${p}:cache:${namespace}:${id}`,
    credentialLock: (id) => `${p}:cred-lock:${id}`,
    credentialSweepLock: () => `${p}:cred-sweep`,
    agent: (id) => `${agents}:agent:${agentPart(id)}`,
    agents: () => `${agents}:agents`,
    agentKeys: () => `${agents}:agent-keys`,
    deadAgentKey: (keyHash) => `${agents}:agent-key-dead:${keyHash}`,
    agentOpen: (agentId) => `${hf}:agent-open:${agentPart(agentId)}`,
    agentRate: (agentId) => `${hf}:agent-rate:${agentPart(agentId)}`,
    agentHandoffs: (agentId) => `${hf}:agent-hf:${agentPart(agentId)}`,
    agentCredentials: (agentId) => `${creds}:agent-creds:${agentPart(agentId)}`,
    auditOnce: (name) => `${p}:audit-once:${name}`,
    serviceSlots: (hash) => `${p}:{${hashTags.service(hash)}}:slots`,
    serviceBreaker: (hash) => `${p}:{${hashTags.service(hash)}}:breaker`,
    serviceWaiters: (hash) => `${p}:{${hashTags.service(hash)}}:waiters`,
    adapter: (platform, ...parts) => [`${p}:{${hashTags.adapter(platform)}}`, ...parts].join(':'),
  };
}
