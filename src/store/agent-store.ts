import type { Redis } from './redis.js';
import type { AgentPolicy } from '../core/agent-policy.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/** An agent created through the API. Its key is kept only as a hash. */
export interface StoredAgent {
  readonly id: string;
  readonly policy: AgentPolicy;
  /** `sha256:<base64url>` of the agent's key. */
  readonly keyHash: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Last key rotation, epoch ms. */
  readonly keyRotatedAt?: number;
}

/** How long the hash of a rotated or removed key is remembered, to audit its reuse (30 days). */
export const deadKeyMemoryMs = 30 * 24 * 3_600_000;

/**
 * API-managed agents in Redis: the record, a key-hash index, and the hashes of dead keys.
 * Every change is one script, so a rotated or removed key stops working for every process at
 * the next request: nothing is cached.
 */
export interface AgentStore {
  /** False when an agent with this id exists. */
  create(agent: StoredAgent): Promise<boolean>;
  get(id: string): Promise<StoredAgent | undefined>;
  list(): Promise<StoredAgent[]>;
  /** The agent a key hash belongs to; `dead` names the agent whose rotated or removed key it was. */
  findByKeyHash(
    keyHash: string,
  ): Promise<{ kind: 'live'; agent: StoredAgent } | { kind: 'dead'; agentId: string } | undefined>;
  /** Replaces the key hash atomically; undefined when the agent is gone. */
  rotate(id: string, keyHash: string, at: number): Promise<StoredAgent | undefined>;
  /** Deletes the agent and its key at once; false when it was not there. */
  remove(id: string): Promise<boolean>;
}

const createScript = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[2])
return 1
`);

// KEYS: record, index, dead mark of the old key. ARGV: new record JSON, id, old hash, new hash, ttl.
const rotateScript = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
if cjson.decode(raw).keyHash ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[2])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[5])
return 1
`);

// KEYS: record, ids, index, dead mark. ARGV: id, hash, ttl.
const removeScript = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
if cjson.decode(raw).keyHash ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[3])
return 1
`);

function decode(raw: string | null): StoredAgent | undefined {
  if (!raw) return undefined;
  return JSON.parse(raw) as StoredAgent;
}

export function createAgentStore(deps: { redis: Redis; keys: Keys }): AgentStore {
  const { redis, keys } = deps;
  const get = async (id: string) => decode(await redis.get(keys.agent(id)));
  return {
    async create(agent) {
      const done = await createScript.run(
        redis,
        [keys.agent(agent.id), keys.agents(), keys.agentKeys()],
        [JSON.stringify(agent), agent.id, String(agent.createdAt), agent.keyHash],
      );
      return done === 1;
    },
    get,
    async list() {
      const ids = await redis.zrange(keys.agents(), 0, -1);
      if (ids.length === 0) return [];
      const raws = await redis.mget(...ids.map((id) => keys.agent(id)));
      return raws.map(decode).filter((a): a is StoredAgent => a !== undefined);
    },
    async findByKeyHash(keyHash) {
      const id = await redis.hget(keys.agentKeys(), keyHash);
      if (id !== null) {
        const agent = await get(id);
        return agent ? { kind: 'live', agent } : undefined;
      }
      const deadFor = await redis.get(keys.deadAgentKey(keyHash));
      return deadFor === null ? undefined : { kind: 'dead', agentId: deadFor };
    },
    async rotate(id, keyHash, at) {
      // A concurrent rotation changes the hash under us: read again and retry.
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await get(id);
        if (!current) return undefined;
        const next: StoredAgent = { ...current, keyHash, keyRotatedAt: at };
        const done = await rotateScript.run(
          redis,
          [keys.agent(id), keys.agentKeys(), keys.deadAgentKey(current.keyHash)],
          [JSON.stringify(next), id, current.keyHash, keyHash, String(deadKeyMemoryMs)],
        );
        if (done === 1) return next;
        if (done === -1) return undefined;
      }
      throw new Error(`agent ${id} is being rotated by someone else; try again`);
    },
    async remove(id) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await get(id);
        if (!current) return false;
        const done = await removeScript.run(
          redis,
          [keys.agent(id), keys.agents(), keys.agentKeys(), keys.deadAgentKey(current.keyHash)],
          [id, current.keyHash, String(deadKeyMemoryMs)],
        );
        if (done !== 0) return done === 1;
      }
      throw new Error(`agent ${id} is being rotated by someone else; try again`);
    },
  };
}
