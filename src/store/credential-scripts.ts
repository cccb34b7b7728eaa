import { LuaScript } from './lua-script.js';

/**
 * The credential store's scripts (credential-store.ts). Three sorted sets are written with a
 * credential's hash so they never disagree with it: `creds` (by creation), `creds-used` (by
 * last use) and `creds-refresh` (by when its next refresh is due; only refreshable ones).
 */

// KEYS: vault entry, credential hash, credentials index, last-use index, agent's credentials
// index, refresh index (one server only: the vault key has no hash tag). ARGV: sealed secret,
// createdAt, id, refresh time or '', then the hash's fields and values.
export const putScript = new LuaScript(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[3])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[6], ARGV[4], ARGV[3]) end
return 1
`);

export const unlockScript = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

// KEYS: the credential hash, the last-use index, the refresh index. ARGV: id, retrievedAt or '',
// needsLogin reason or '' (its secret is gone: nothing left to refresh).
export const touchScript = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'retrievedAt', ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'needsLogin', ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return 1
`);

// KEYS: the credential hash, the last-use index. ARGV: id.
export const reindexScript = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.call('ZREM', KEYS[2], ARGV[1]) end
local used = redis.call('HGET', KEYS[1], 'retrievedAt') or redis.call('HGET', KEYS[1], 'createdAt') or '0'
return redis.call('ZADD', KEYS[2], used, ARGV[1])
`);

// KEYS: the refresh index. ARGV: due up to (ms), lease end (ms), limit. The ids due, each moved
// to the lease's end: taken by this caller alone, and found again if it dies before it is done.
export const claimRefreshesScript = new LuaScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
`);

// KEYS: the credential hash, the refresh index. ARGV: id, next try (ms), '1' when a failed
// attempt is counted. Returns the failures so far, or -1 when the credential is gone.
export const deferRefreshScript = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
local failures = tonumber(redis.call('HGET', KEYS[1], 'refreshFailures') or '0')
if ARGV[3] == '1' then failures = redis.call('HINCRBY', KEYS[1], 'refreshFailures', 1) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return failures
`);
