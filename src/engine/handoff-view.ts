import type { HandoffRecord } from '../core/handoff.js';
import type { CredentialRecord } from '../store/credential-store.js';

/** The API's picture of a handoff: no secrets, times as epoch ms, absent values as null. */
export interface HandoffView {
  readonly id: string;
  readonly status: HandoffRecord['status'];
  readonly thread: string;
  readonly service: string;
  /** The service's own name, once discovery or the login told us. */
  readonly serviceName: string | null;
  /** The protocol, or `auto` until discovery has chosen one. */
  readonly protocol: string;
  readonly agent: { readonly id: string; readonly correlationId: string };
  readonly approvers: readonly string[];
  readonly scopes: readonly string[];
  readonly approvalUrl: string | null;
  /**
   * What the person answers in the thread once the login has started: the browser's finish
   * code, the code the service emailed them, or "done" after approving a device code.
   */
  readonly answer: NonNullable<HandoffRecord['answer']> | null;
  readonly attempts: number;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly completedAt: number | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  /** The handoff this one re-opens (its credential expired or was rejected). */
  readonly previousHandoffId: string | null;
  readonly credential: {
    readonly id: string;
    readonly scopes: readonly string[];
    readonly expiresAt: number | null;
  } | null;
}

export function toHandoffView(record: HandoffRecord, credential?: CredentialRecord): HandoffView {
  return {
    id: record.id,
    status: record.status,
    thread: record.thread,
    service: record.service,
    serviceName: record.serviceName ?? null,
    protocol: record.protocol,
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
