import { handoffStatuses, type HandoffRecord } from '../core/handoff.js';
import { wellFormed } from '../core/well-formed.js';
import { packWaiting, packWaitingValue, unpackWaiting } from './waiting-codec.js';

/**
 * Handoff records as one JSON string per handoff. A string costs about half what a Redis
 * hash does here: a hash whose values exceed 64 bytes (an approval URL does) drops out of the
 * compact listpack encoding. Updates are JSON patches merged by a Lua script.
 */
type Patch = { -readonly [K in keyof HandoffRecord]?: HandoffRecord[K] | undefined };
/** A partial record for updates; `undefined` values remove the field. */
export type HandoffPatch = Omit<Patch, 'id' | 'kind' | 'status' | 'version' | 'createdAt' | 'updatedAt'>;

const lists = ['approvers', 'scopes'] as const;

/**
 * Short names the stored JSON uses for the long field names every waiting login carries (the
 * names alone were ~150 of a record's ~1,000 bytes, issue #16). Only fields no Lua script
 * reads by name: the scripts see `id`, `status`, `version`, `updatedAt`, `agentId`, `kind`,
 * `error`, `completedAt` and the approval's fields under their own names, and the ending's
 * audit entry (audit-log.ts) reads the correlation id as `cI` (or its long name). Records written
 * with the long names are still read; a patch writes the short name and removes the long one.
 */
const storedNames: Partial<Record<keyof HandoffRecord, string>> = {
  protocol: 'pr',
  service: 'sv',
  serviceName: 'sN',
  serviceLogoUrl: 'sL',
  serviceExpiresAt: 'sX',
  correlationId: 'cI',
  approvalUrl: 'aL',
  pollIntervalMs: 'pI',
  nextPollAt: 'pN',
  activeUntil: 'aU',
  sealedSecret: 'sS',
  warnBeforeMs: 'wB',
  remind: 'rP',
  remindAt: 'rA',
  escalate: 'eP',
};
const fieldNames = new Map(Object.entries(storedNames).map(([field, stored]) => [stored, field]));
const storedName = (field: string): string => storedNames[field as keyof HandoffRecord] ?? field;

/** Field names as stored: the short ones. */
function toStoredNames(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([field, value]) => [storedName(field), value]));
}

/** Back to the record's names; a short name wins over a long one left by an older writer. */
function fromStoredNames(stored: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(stored)) {
    const field = fieldNames.get(name);
    if (field) record[field] = value;
    else if (!(name in record)) record[name] = value;
  }
  return record;
}

/**
 * Every string written as well-formed Unicode: the transition script decodes records with
 * Lua's cjson, which rejects a lone surrogate, and a record it cannot decode can never change
 * state again. Requests are checked at the door; this is the last line for anything else.
 */
const toJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? wellFormed(v) : v));

/** The patch as the Lua script takes it: fields to set, and names of fields to remove. */
export function encodePatch(patch: HandoffPatch): { set: string; unset: string } {
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    const stored = storedName(key);
    if (value === undefined || isStoredAsDefault(key, value, patch)) unset.push(stored);
    else set[stored] = packWaitingValue(key, value);
    // A record written with the long name loses it either way: the short one replaces it.
    if (stored !== key) unset.push(key);
  }
  // Lua's cjson turns an empty JSON object or array into an empty table either way; `unset`
  // is read with ipairs, `set` with pairs, so both work when empty.
  return { set: toJson(set), unset: toJson(unset) };
}

/**
 * Values left out of the stored JSON because decodeRecord() restores them: empty lists, and
 * the usual answer (a finish code), which is always set together with the approval URL.
 */
function isStoredAsDefault(
  key: string,
  value: unknown,
  fields: Partial<Record<keyof HandoffRecord, unknown>>,
): boolean {
  if ((lists as readonly string[]).includes(key)) return Array.isArray(value) && value.length === 0;
  return key === 'answer' && value === 'finish_code' && typeof fields.approvalUrl === 'string';
}

/**
 * The record as stored: values every record has by default are left out (kind, empty lists,
 * no attempts, a correlation id that is just the handoff id, the usual answer, the first
 * reminder's moment) and the waiting plans are stored as arrays (waiting-codec.ts). Every byte
 * here is kept for as long as the handoff waits.
 */
export function encodeRecord(record: HandoffRecord): string {
  const { kind, ...rest } = record;
  const stored: Record<string, unknown> = kind === 'login' ? { ...rest } : { kind, ...rest };
  for (const [key, value] of Object.entries(stored)) if (isStoredAsDefault(key, value, record)) delete stored[key];
  if (record.attempts === 0) delete stored.attempts;
  if (record.correlationId === record.id) delete stored.correlationId;
  packWaiting(stored);
  return toJson(toStoredNames(stored));
}

/** Parses a stored record, restoring defaults; lists that Lua's cjson wrote as `{}` become `[]` again. */
export function decodeRecord(raw: string | null | undefined): HandoffRecord | undefined {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = fromStoredNames(value as Record<string, unknown>);
  if (typeof record.id !== 'string' || !(handoffStatuses as readonly string[]).includes(String(record.status)))
    return undefined;
  for (const list of lists) record[list] = Array.isArray(record[list]) ? record[list] : [];
  record.attempts = typeof record.attempts === 'number' ? record.attempts : 0;
  record.kind = record.kind === 'approval' ? 'approval' : 'login';
  unpackWaiting(record);
  // Lua's cjson writes an empty vote list as `{}`.
  if (typeof record.votes === 'object' && record.votes !== null) {
    const votes = record.votes as Record<string, unknown>;
    record.votes = {
      approve: Array.isArray(votes.approve) ? votes.approve : [],
      deny: Array.isArray(votes.deny) ? votes.deny : [],
    };
  }
  if (typeof record.decision === 'object' && record.decision !== null) {
    const decision = record.decision as Record<string, unknown>;
    if (!Array.isArray(decision.by)) decision.by = [];
  }
  if (typeof record.approval === 'object' && record.approval !== null) {
    const action = (record.approval as Record<string, unknown>).action as Record<string, unknown> | undefined;
    if (action && typeof action.details === 'object' && action.details !== null && Array.isArray(action.details))
      delete action.details;
  }
  if (typeof record.approvalUrl === 'string' && record.answer === undefined) record.answer = 'finish_code';
  if (typeof record.correlationId !== 'string') record.correlationId = record.id;
  // Records written before notes were structured hold them as text with values pasted in:
  // shown whole as one value, so nothing in them is read as markup.
  if (typeof record.note === 'string') record.note = [{ value: record.note, max: 500 }];
  return record as unknown as HandoffRecord;
}
