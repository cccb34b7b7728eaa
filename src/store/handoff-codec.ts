import { handoffStatuses, type HandoffRecord, type HandoffStatus } from '../core/handoff.js';
import type { ProtocolName } from '../core/login-protocol.js';

/**
 * Handoff records as flat Redis hashes: strings, numbers as decimal, arrays as JSON, errors
 * as two fields. An empty string in an update means "remove the field".
 */
export type HandoffFields = Record<string, string>;

type Patch = { -readonly [K in keyof HandoffRecord]?: HandoffRecord[K] | undefined };
/** A partial record for updates; `undefined` values remove the field. */
export type HandoffPatch = Omit<Patch, 'id' | 'kind' | 'status' | 'version' | 'createdAt' | 'updatedAt'>;

const numberFields = ['expiresAt', 'completedAt', 'attempts', 'pollIntervalMs', 'nextPollAt', 'restarts'] as const;
const stringFields = [
  'service',
  'serviceName',
  'serviceLogoUrl',
  'userCode',
  'note',
  'protocol',
  'thread',
  'approverEmail',
  'agentId',
  'correlationId',
  'approvalUrl',
  'answer',
  'credentialId',
  'claimedBy',
  'previousHandoffId',
] as const;

/** Encodes the given fields; keys present with `undefined` become '' (remove). */
export function encodePatch(patch: HandoffPatch): HandoffFields {
  const out: HandoffFields = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) {
      if (key === 'error') {
        out.errorCode = '';
        out.errorMessage = '';
      } else out[key] = '';
      continue;
    }
    if (key === 'approvers' || key === 'scopes') out[key] = JSON.stringify(value);
    else if (key === 'error') {
      const error = value as { code: string; message: string };
      out.errorCode = error.code;
      out.errorMessage = error.message;
    } else out[key] = String(value);
  }
  return out;
}

export function encodeRecord(record: HandoffRecord): HandoffFields {
  const { id, kind, status, version, createdAt, updatedAt, ...rest } = record;
  const fields = encodePatch(rest);
  for (const key of Object.keys(fields)) if (fields[key] === '') delete fields[key];
  return { id, kind, status, version: String(version), createdAt: String(createdAt), updatedAt: String(updatedAt), ...fields };
}

function parseList(value: string | undefined): string[] {
  if (!value) return [];
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

export function decodeRecord(hash: HandoffFields): HandoffRecord | undefined {
  if (!hash.id || !hash.status) return undefined;
  if (!(handoffStatuses as readonly string[]).includes(hash.status)) return undefined;
  const record: Record<string, unknown> = {
    id: hash.id,
    kind: 'login',
    status: hash.status as HandoffStatus,
    version: Number(hash.version ?? 0),
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt),
    approvers: parseList(hash.approvers),
    scopes: parseList(hash.scopes),
    attempts: 0,
  };
  for (const key of stringFields) if (hash[key]) record[key] = hash[key];
  for (const key of numberFields) if (hash[key]) record[key] = Number(hash[key]);
  if (hash.errorCode) record.error = { code: hash.errorCode, message: hash.errorMessage ?? '' };
  record.protocol = (hash.protocol ?? 'agent-sessions') as ProtocolName | 'auto';
  return record as unknown as HandoffRecord;
}

/** Redis replies HGETALL-style as a flat [k, v, k, v…] array inside Lua results. */
export function pairsToFields(flat: readonly unknown[]): HandoffFields {
  const out: HandoffFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}
