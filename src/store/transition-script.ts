import { appendEndingLua } from './agent-feed.js';
import { appendEndingAuditLua } from './audit-log.js';
import { LuaScript } from './lua-script.js';

/**
 * HandoffStore.transition's script (src/store/handoff-store.ts): the compare-and-set on one
 * handoff record. Succeeds only when the current status is one of the allowed sources (and the
 * version matches, when given); bumps the version, merges the patch, publishes the status
 * change, and returns the whole record either way. A transition to a
 * terminal status also appends the ending to the agent's feed (src/store/agent-feed.ts) in
 * the same script, so an ending never exists without its feed entry; when the request names
 * who ended it (`audit`), its `handoff.<status>` audit entry (src/store/audit-log.ts); and the
 * bookkeeping of an ending (HandoffStore.ended: out of the thread's open set, the agent's open
 * count and, when the thread has nothing open left, the platform's open threads), so a crash
 * cannot leave an ended handoff counted as open, and the ending costs one round trip.
 *
 * KEYS[1] record; terminal transitions only: KEYS[2] the agent's feed stream, KEYS[3] the
 * audit stream, KEYS[4] the thread's open set, KEYS[5] the agent's open set, KEYS[6] the
 * platform's open threads. ARGV: from statuses (comma-separated), new status or '', expected
 * version or '', now (ms), events channel, retention ms when the new status is terminal or '',
 * patch JSON (fields to set), JSON array of fields to remove, the record's agent id, feed max
 * length, feed max age (ms), then (terminal only) the ending's actor, source, request id,
 * audit max length, '1' when it is audited, the record's thread, '1' when the platform's open
 * threads are indexed, and (a completed login only, optional) its credential's scopes for the
 * feed entry (`feedScopes`).
 *
 * The status message is `<id> <status>`, and `<id> <status> <agent id>` for an ending (the
 * agent id last: it may contain spaces). Returns {-2} when KEYS[2] is not the record's agent's
 * or KEYS[4] not its thread's.
 */
export const transitionScript = new LuaScript(`${appendEndingLua}${appendEndingAuditLua}
local raw = redis.call('GET', KEYS[1])
if not raw then return {-1} end
local rec = cjson.decode(raw)
if KEYS[2] and (rec.agentId ~= ARGV[9] or rec.thread ~= ARGV[17]) then return {-2} end
local ok = (ARGV[3] == '' or tonumber(ARGV[3]) == rec.version)
if ok then
  ok = false
  for s in string.gmatch(ARGV[1], '[^,]+') do if s == rec.status then ok = true end end
end
if not ok then return {0, raw} end
local before = rec.status
rec.version = rec.version + 1
rec.updatedAt = tonumber(ARGV[4])
if ARGV[2] ~= '' then rec.status = ARGV[2] end
for k, v in pairs(cjson.decode(ARGV[7])) do rec[k] = v end
for _, k in ipairs(cjson.decode(ARGV[8])) do rec[k] = nil end
-- cjson writes each '/' as an escaped '\\/' (never bare), so turning them back is exact.
local out = string.gsub(cjson.encode(rec), '\\\\/', '/')
redis.call('SET', KEYS[1], out, 'KEEPTTL')
if ARGV[6] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
if rec.status ~= before then
  local message = rec.id .. ' ' .. rec.status
  if KEYS[2] then
    append_ending(KEYS[2], rec, ARGV[4], ARGV[10], ARGV[11], ARGV[19])
    if ARGV[16] == '1' then append_ending_audit(KEYS[3], ARGV[15], rec, ARGV[12], ARGV[13], ARGV[14]) end
    message = message .. ' ' .. rec.agentId
  end
  redis.call('PUBLISH', ARGV[5], message)
end
if KEYS[2] then
  redis.call('ZREM', KEYS[4], rec.id)
  redis.call('ZREM', KEYS[5], rec.id)
  if ARGV[18] == '1' and redis.call('ZCARD', KEYS[4]) == 0 then redis.call('ZREM', KEYS[6], rec.thread) end
end
return {1, out}
`);
