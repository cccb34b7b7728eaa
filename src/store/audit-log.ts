import type { Redis } from './redis.js';
import type { AuditSink } from './audit-sink.js';
import type { Keys } from './keys.js';
import type { HandoffRecord } from '../core/handoff.js';

/** Entries kept in the audit stream (approximate trim). */
export const auditMaxLength = 100_000;

/**
 * The Lua that appends a handoff's ending (`handoff.<status>`) to the audit stream, for the
 * scripts that end one (the transition in handoff-store.ts, an approval's settling vote in
 * approval-votes.ts), so an ending never exists without its audit entry: defines
 * `append_ending_audit(audit_key, max_len, rec, actor, source, request_id)`. The entry is
 * exactly what `append` writes for it (same fields in the same order; the correlation id ''
 * when it is the handoff id; detail `endingAuditDetail(record)`), so readers cannot tell the
 * two apart. The audit key must share the record's slot (keys.ts puts it in the `{hf}` tag).
 */
export const appendEndingAuditLua = `
local function append_ending_audit(audit_key, max_len, rec, actor, source, request_id)
  -- The record stores its correlation id as 'cI' (handoff-codec.ts); older records as 'correlationId'.
  local cid = rec.cI
  if cid == nil then cid = rec.correlationId end
  local correlation = ''
  if type(cid) == 'string' and cid ~= rec.id then correlation = cid end
  local detail = '{"status":' .. cjson.encode(rec.status)
  if type(rec.error) == 'table' and type(rec.error.code) == 'string' then
    detail = detail .. ',"error":' .. cjson.encode(rec.error.code)
  end
  if type(rec.decision) == 'table' then
    if type(rec.decision.outcome) == 'string' then
      detail = detail .. ',"outcome":' .. cjson.encode(rec.decision.outcome)
    end
    if type(rec.decision.reason) == 'string' then
      detail = detail .. ',"reason":' .. cjson.encode(rec.decision.reason)
    end
  end
  -- cjson writes each '/' as an escaped '\\\\/' (never bare), so turning them back is exact.
  detail = string.gsub(detail .. '}', '\\\\/', '/')
  redis.call('XADD', audit_key, 'MAXLEN', '~', max_len, '*', 'event', 'handoff.' .. rec.status,
    'handoffId', rec.id, 'agentId', rec.agentId or '', 'correlationId', correlation, 'actor', actor,
    'source', source, 'requestId', request_id, 'detail', detail)
end
`;

/**
 * The detail of a handoff's ending entry, as append_ending_audit writes it from the finished
 * record (for the sink's copy): its status, its error code, and an approval's decision (the
 * outcome, and the reason, already bounded where the vote was read).
 */
export function endingAuditDetail(record: HandoffRecord): Readonly<Record<string, string>> {
  return {
    status: record.status,
    ...(record.error ? { error: record.error.code } : {}),
    ...(record.decision ? { outcome: record.decision.outcome } : {}),
    ...(record.decision?.reason !== undefined ? { reason: record.decision.reason } : {}),
  };
}

/** One step in a handoff's life. Values must never be secrets. */
export interface AuditEntry {
  /** What happened, e.g. `handoff.created`, `reply.refused`, `credential.retrieved`. */
  readonly event: string;
  readonly handoffId?: string;
  readonly agentId?: string;
  readonly correlationId?: string;
  /** Who did it: `admin`, `agent:<id>` (API callers), a platform person id, `bridge…`. */
  readonly actor?: string;
  /** Source address of the API request behind it (absent for the bridge's own work). */
  readonly source?: string;
  /** Id of the API request behind it (`req_…`, its `X-Request-Id`). */
  readonly requestId?: string;
  /** Short non-secret facts (status, error code, platform). */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /**
   * Writes to the sink only an entry a script already appended to the stream (a handoff's
   * ending, appendEndingAuditLua). Written after the script, so a crash between the two loses
   * the sink's copy: the sink has endings at most once, the stream exactly once.
   */
  copyToSink(entry: AuditEntry): Promise<void>;
  /**
   * Appends unless an entry with the same `onceKey` was appended in the last `windowMs`: a flood
   * (a key used again and again, a limit hit in a loop) is audited once per window, not per request.
   */
  appendOnce(onceKey: string, windowMs: number, entry: AuditEntry): Promise<boolean>;
  /** Most recent entries first; for the API and tests. */
  recent(count: number, handoffId?: string): Promise<Array<AuditEntry & { id: string; at: number }>>;
}

/** `sink`: where entries also go, outside Redis (written first, so Redis trouble cannot lose one). */
export function createAuditLog(deps: { redis: Redis; keys: Keys; sink?: AuditSink; now?: () => number }): AuditLog {
  const { redis, keys } = deps;
  const now = deps.now ?? Date.now;
  const log: AuditLog = {
    async appendOnce(onceKey, windowMs, entry) {
      const first = await redis.set(keys.auditOnce(onceKey), '1', 'PX', Math.max(1, windowMs), 'NX');
      if (first !== 'OK') return false;
      await log.append(entry);
      return true;
    },
    async copyToSink(entry) {
      await deps.sink?.write(entry, now());
    },
    async append(entry) {
      await deps.sink?.write(entry, now());
      // Every entry has the same fields in the same order ('' when absent): Redis then stores the
      // field names once per stream node instead of once per entry. The entry's time is its
      // stream id (Redis's clock, in ms).
      const detail = entry.detail && Object.keys(entry.detail).length > 0 ? JSON.stringify(entry.detail) : '';
      const fields = [
        'event',
        entry.event,
        'handoffId',
        entry.handoffId ?? '',
        'agentId',
        entry.agentId ?? '',
        // A correlation id that is just the handoff id (the default) is implied, not repeated.
        'correlationId',
        entry.correlationId === entry.handoffId ? '' : (entry.correlationId ?? ''),
        'actor',
        entry.actor ?? '',
        'source',
        entry.source ?? '',
        'requestId',
        entry.requestId ?? '',
        'detail',
        detail,
      ];
      await redis.xadd(keys.audit(), 'MAXLEN', '~', auditMaxLength, '*', ...fields);
    },
    async recent(count, handoffId) {
      const rows = await redis.xrevrange(keys.audit(), '+', '-', 'COUNT', handoffId ? count * 50 : count);
      const entries = rows.map(([id, flat]) => {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
        return {
          id,
          at: Number(id.split('-')[0]),
          event: f.event ?? '',
          ...(f.handoffId ? { handoffId: f.handoffId } : {}),
          ...(f.agentId ? { agentId: f.agentId } : {}),
          ...(f.correlationId || f.handoffId ? { correlationId: f.correlationId || f.handoffId } : {}),
          ...(f.actor ? { actor: f.actor } : {}),
          ...(f.source ? { source: f.source } : {}),
          ...(f.requestId ? { requestId: f.requestId } : {}),
          ...(f.detail ? { detail: JSON.parse(f.detail) as Record<string, string | number | boolean> } : {}),
        };
      });
      return (handoffId ? entries.filter((e) => e.handoffId === handoffId) : entries).slice(0, count);
    },
  };
  return log;
}
