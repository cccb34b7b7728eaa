import type { HandoffRecord } from '../core/handoff.js';
import type { ChosenLogin } from '../core/login-protocol.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Protocol "auto": discovery asks the service how it logs agents in (network I/O, so it runs
 * in the driver's start step, where a transient failure is retried by the queue) and the
 * choice is stored on the record with the name and logo the service published. A record
 * that already names its protocol passes through unchanged. Undefined: the record moved on
 * meanwhile (cancelled); the driver's next pass reports it. No audit entry of its own:
 * `handoff.awaiting_human` names the protocol (every entry costs memory per handoff).
 */
export async function resolveProtocol(
  deps: EngineDeps,
  record: HandoffRecord,
  signal?: AbortSignal,
): Promise<HandoffRecord | undefined> {
  if (record.protocol !== 'auto') return record;
  const ctx = { agentId: record.agentId, correlationId: record.correlationId, ...(signal ? { signal } : {}) };
  const chosen: ChosenLogin = deps.discovery
    ? await deps.discovery.choose(record.service, deps.protocols.names, ctx)
    : { protocol: deps.protocols.names[0]! };
  const saved = await deps.store.transition(record.id, {
    from: ['pending'],
    set: {
      protocol: chosen.protocol,
      ...(chosen.serviceName ? { serviceName: chosen.serviceName } : {}),
      ...(chosen.serviceLogoUrl ? { serviceLogoUrl: chosen.serviceLogoUrl } : {}),
    },
  });
  return saved.ok ? saved.record : undefined;
}
