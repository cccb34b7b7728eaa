import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { LoginDiscovery } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import type { Platform } from '../core/thread-ref.js';
import type { AgentLimitsStore } from '../store/agent-limits.js';
import type { AuditLog } from '../store/audit-log.js';
import type { CredentialStore } from '../store/credential-store.js';
import type { HandoffStore } from '../store/handoff-store.js';
import type { IdempotencyStore } from '../store/idempotency-store.js';
import type { ServiceGate } from '../store/service-gate.js';
import type { Vault } from '../store/vault.js';
import type { AgentDirectory } from './agent-directory.js';
import type { HandoffJobs, Outbox } from './ports.js';
import type { AdapterRegistry, ProtocolRegistry } from './registries.js';

/** Everything the engine's functions use, passed in once. */
export interface EngineDeps {
  readonly store: HandoffStore;
  readonly vault: Vault;
  readonly credentials: CredentialStore;
  readonly idempotency: IdempotencyStore;
  readonly audit: AuditLog;
  /** Every agent the bridge knows (file and API), with their policies. */
  readonly agents: AgentDirectory;
  /** Per-agent open-handoff and per-minute counters. */
  readonly agentLimits: AgentLimitsStore;
  readonly adapters: AdapterRegistry;
  readonly protocols: ProtocolRegistry;
  readonly outbox: Outbox;
  readonly jobs: HandoffJobs;
  /** Chooses a protocol for handoffs created with `auto`; without it, `auto` means the first protocol. */
  readonly discovery?: LoginDiscovery;
  /** Per service origin: calls in flight and a circuit breaker (fairness); absent = no limit. */
  readonly serviceGate?: ServiceGate;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policy: EnginePolicy;
}

export interface EnginePolicy {
  readonly production: boolean;
  /** Lifetime when a request names none, ms. */
  readonly defaultExpiresInMs: number;
  /** Longest lifetime a request may ask for, ms. */
  readonly maxExpiresInMs: number;
  /** Background poll interval when the service names none, ms. */
  readonly pollIntervalMs: number;
  /** Longest gap between background polls of an old handoff, ms (see backgroundPollDelay). */
  readonly pollMaxIntervalMs: number;
  /** Refresh a credential this long before it expires, ms (at most a quarter of its life). */
  readonly refreshBeforeMs: number;
  /** Revoke and delete a credential this long after it was issued, ms (0 = never). */
  readonly credentialMaxAgeMs?: number;
  /** Revoke and delete a credential nobody retrieved for this long, ms (0 = never). */
  readonly credentialIdleMs?: number;
  /**
   * A claim's lease, ms (default 60 s): renewed while its exchange runs; one not renewed for
   * this long is presumed abandoned by a dead worker and released by the driver.
   */
  readonly claimLeaseMs?: number;
  /** Per platform: what to do with a public thread. Default `refuse`. */
  readonly publicThreads?: Partial<Record<Platform, 'refuse' | 'warn'>>;
  /** Per platform: how an operator allows public threads (ends the `public_thread` error). */
  readonly publicThreadsHowToAllow?: Partial<Record<Platform, string>>;
  /**
   * Origin globs (HANDOFF_APPROVER_EMAIL_SERVICES) of services that may be sent an approver's
   * directory email. Default none: only an email the request named goes to a service.
   */
  readonly approverEmailServices?: readonly string[];
  /** Which service URLs and approval links are acceptable (no SSRF, no unsafe links). */
  readonly network: NetworkPolicy;
  /** How long a handoff may take to start (discovery, the start call, retries) before it fails, ms (30 s). */
  readonly startTimeoutMs: number;
  /** Calls in flight per service origin (4); one agent may have twice that over all services. */
  readonly serviceConcurrency: number;
  /** Reminder for requests that name none, ms (HANDOFF_REMIND_AFTER_MS); undefined: none. */
  readonly remindAfterMs?: number;
  /** Warning before the expiry of handoffs of 30 minutes or more, ms (HANDOFF_EXPIRY_WARNING_MS; 0 or undefined: none). */
  readonly expiryWarningMs?: number;
}
