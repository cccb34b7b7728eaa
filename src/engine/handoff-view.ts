import type { HandoffRecord } from '../core/handoff.js';
import type { HandoffView } from '../core/wire.js';
import type { CredentialRecord } from '../store/credential-store.js';

export function toHandoffView(record: HandoffRecord, credential?: CredentialRecord): HandoffView {
  return {
    id: record.id,
    status: record.status,
    thread: record.thread,
    service: record.service,
    serviceName: record.serviceName ?? null,
    protocol: record.protocol,
    protocolVersion: record.protocolVersion ?? null,
    agent: { id: record.agentId, correlationId: record.correlationId },
    approvers: record.approvers,
    scopes: record.scopes,
    approvalUrl: record.approvalUrl ?? null,
    answer: record.answer ?? null,
    attempts: record.attempts,
    expiresAt: record.expiresAt,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    completedAt: record.completedAt ?? null,
    error: record.error ?? null,
    previousHandoffId: record.previousHandoffId ?? null,
    reused: record.reused === true,
    credential:
      record.status === 'completed' && record.credentialId
        ? {
            id: record.credentialId,
            scopes: credential?.scopes ?? record.scopes,
            expiresAt: credential?.expiresAt ?? null,
          }
        : null,
  };
}
