import { isCluster, type Redis } from './redis.js';
import type { IssuedCredential, ProtocolName } from '../core/login-protocol.js';
import { randomHex } from '../core/random-pool.js';
import {
  claimRefreshesScript,
  deferRefreshScript,
  putScript,
  reindexScript,
  touchScript,
  unlockScript,
} from './credential-scripts.js';
import type { Keys } from './keys.js';
import type { Vault } from './vault.js';

/** What the bridge may say about a credential: everything except the secret. */
export interface CredentialRecord {
  readonly id: string;
  readonly handoffId: string;
  readonly service: string;
  /** The service's own name, when it published one. */
  readonly serviceName?: string;
  readonly protocol: ProtocolName;
  readonly scopes: readonly string[];
  /** Access expiry, epoch ms; absent = does not expire. */
  readonly expiresAt?: number;
  readonly agentId: string;
  readonly thread: string;
  readonly createdAt: number;
  /** Last refresh, epoch ms. */
  readonly refreshedAt?: number;
  /** Last time it was handed out, epoch ms (the idle limit counts from here, or from creation). */
  readonly retrievedAt?: number;
  /**
   * Set when it stopped working by itself (a refused refresh): the secret is gone and the login
   * is re-opened the next time its agent asks for it. The reason's code.
   */
  readonly needsLogin?: string;
  /** Scheduled refreshes that failed in a row (reset by a refresh that works). */
  readonly refreshFailures?: number;
}

const vaultSlot = 'cred';

/**
 * Credentials: metadata in a plain hash, the issued tokens sealed in the vault. The secret is
 * written first: a crash can leave an orphaned secret, never metadata without a secret. On a
 * single server `put` writes both in one script (one round trip, secret first); on a cluster
 * the vault key (untagged, keys.ts) lives in another slot, so it takes two. Indexes written with
 * the hash (credential-scripts.ts) tell which credentials are past their life (`creds` by
 * creation, `creds-used` by last use: src/engine/credential-sweep.ts) and which are due a
 * refresh (`creds-refresh`: src/engine/credential-refresh-sweep.ts).
 */
export interface CredentialStore {
  /** `refreshAt`: when its first refresh is due (epoch ms), for a credential that can be refreshed. */
  put(record: CredentialRecord, secret: IssuedCredential, refreshAt?: number): Promise<void>;
  get(id: string): Promise<CredentialRecord | undefined>;
  secret(id: string): Promise<IssuedCredential | undefined>;
  /**
   * Replaces the secret (after a refresh) and the expiry shown in metadata; `refreshAt`: when
   * the next refresh is due, or none.
   */
  replaceSecret(id: string, secret: IssuedCredential, refreshedAt: number, refreshAt?: number): Promise<void>;
  delete(id: string): Promise<void>;
  list(limit: number): Promise<CredentialRecord[]>;
  /** One agent's credentials, newest first. */
  listOf(agentId: string, limit: number): Promise<CredentialRecord[]>;
  /** Notes a retrieval (the idle limit counts from the last one). */
  touch(id: string, at: number): Promise<void>;
  /** Deletes the secret and marks the credential as needing a new login (see `needsLogin`). */
  markNeedsLogin(id: string, reason: string): Promise<void>;
  /**
   * Ids of credentials created at or before `createdBefore`, or last used at or before
   * `usedBefore` (epoch ms; either may be absent), oldest first, at most `limit` of each.
   */
  pastLife(cutoffs: { createdBefore?: number; usedBefore?: number }, limit: number): Promise<string[]>;
  /**
   * Sets the credential's place in the last-use index from its record (one stored before the
   * index existed), or takes it out of the index when the record is gone.
   */
  reindexLastUse(id: string): Promise<void>;
  /**
   * Takes up to `limit` credentials whose refresh is due by `dueBy`, each for `leaseMs`: no other
   * caller gets them meanwhile, and they come due again if this one never reports back.
   */
  claimRefreshes(dueBy: number, limit: number, leaseMs: number): Promise<string[]>;
  /**
   * Puts a claimed refresh off until `at`, counting a failed attempt when `failed`; returns the
   * failures so far, or undefined when the credential is gone (taken out of the index too).
   */
  deferRefresh(id: string, at: number, failed: boolean): Promise<number | undefined>;
  /** Takes the credential out of the refresh index (nothing to refresh). */
  dropRefresh(id: string): Promise<void>;
  /** Takes a short exclusive lock (one refresh at a time); returns its token, or undefined when held. */
  lock(id: string, ttlMs: number): Promise<string | undefined>;
  /** Releases a lock taken with `lock`, only if it is still ours. */
  unlock(id: string, token: string): Promise<void>;
  /** The same for the sweep of credentials past their life (one process sweeps at a time). */
  lockSweep(ttlMs: number): Promise<string | undefined>;
  unlockSweep(token: string): Promise<void>;
}

function decode(hash: Record<string, string>): CredentialRecord | undefined {
  if (!hash.id) return undefined;
  return {
    id: hash.id,
    handoffId: hash.handoffId ?? '',
    service: hash.service ?? '',
    ...(hash.serviceName ? { serviceName: hash.serviceName } : {}),
    protocol: (hash.protocol ?? 'agent-sessions') as ProtocolName,
    scopes: hash.scopes ? (JSON.parse(hash.scopes) as string[]) : [],
    ...(hash.expiresAt ? { expiresAt: Number(hash.expiresAt) } : {}),
    agentId: hash.agentId ?? '',
    thread: hash.thread ?? '',
    createdAt: Number(hash.createdAt ?? 0),
    ...(hash.refreshedAt ? { refreshedAt: Number(hash.refreshedAt) } : {}),
    ...(hash.retrievedAt ? { retrievedAt: Number(hash.retrievedAt) } : {}),
    ...(hash.needsLogin ? { needsLogin: hash.needsLogin } : {}),
    ...(hash.refreshFailures ? { refreshFailures: Number(hash.refreshFailures) } : {}),
  };
}

export function createCredentialStore(deps: { redis: Redis; keys: Keys; vault: Vault }): CredentialStore {
  const { redis, keys, vault } = deps;
  const recordsOf = async (ids: readonly string[]) => {
    const records = await Promise.all(ids.map(async (id) => decode(await redis.hgetall(keys.credential(id)))));
    return records.filter((r): r is CredentialRecord => r !== undefined);
  };
  const lifeKeys = (id: string) => [keys.credential(id), keys.credentialsByLastUse(), keys.credentialsRefreshDue()];
  const lock = async (key: string, ttlMs: number) => {
    const token = randomHex(12);
    const ok = await redis.set(key, token, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
    return ok === 'OK' ? token : undefined;
  };
  const unlock = async (key: string, token: string) => {
    await unlockScript.run(redis, [key], [token]);
  };
  return {
    async put(record, secret, refreshAt) {
      const fields: Record<string, string> = {
        id: record.id,
        handoffId: record.handoffId,
        service: record.service,
        protocol: record.protocol,
        scopes: JSON.stringify(record.scopes),
        agentId: record.agentId,
        thread: record.thread,
        createdAt: String(record.createdAt),
      };
      if (record.expiresAt !== undefined) fields.expiresAt = String(record.expiresAt);
      if (record.serviceName) fields.serviceName = record.serviceName;
      if (!isCluster(redis)) {
        const entry = vault.entry(vaultSlot, record.id, secret);
        const metadataKeys = [
          keys.credential(record.id),
          keys.credentials(),
          keys.credentialsByLastUse(),
          keys.agentCredentials(record.agentId),
          keys.credentialsRefreshDue(),
        ];
        await putScript.run(
          redis,
          [entry.key, ...metadataKeys],
          [
            entry.blob,
            String(record.createdAt),
            record.id,
            refreshAt === undefined ? '' : String(Math.round(refreshAt)),
            ...Object.entries(fields).flat(),
          ],
        );
        return;
      }
      await vault.put(vaultSlot, record.id, secret);
      const tx = redis
        .multi()
        .hset(keys.credential(record.id), fields)
        .zadd(keys.credentials(), record.createdAt, record.id)
        .zadd(keys.credentialsByLastUse(), record.createdAt, record.id)
        .zadd(keys.agentCredentials(record.agentId), record.createdAt, record.id);
      if (refreshAt !== undefined) tx.zadd(keys.credentialsRefreshDue(), Math.round(refreshAt), record.id);
      await tx.exec();
    },
    async get(id) {
      return decode(await redis.hgetall(keys.credential(id)));
    },
    secret: (id) => vault.get<IssuedCredential>(vaultSlot, id),
    async replaceSecret(id, secret, refreshedAt, refreshAt) {
      await vault.put(vaultSlot, id, secret);
      const tx = redis
        .multi()
        .hset(keys.credential(id), 'refreshedAt', String(refreshedAt))
        .hdel(keys.credential(id), 'refreshFailures');
      if (secret.expiresAt !== undefined) tx.hset(keys.credential(id), 'expiresAt', String(secret.expiresAt));
      else tx.hdel(keys.credential(id), 'expiresAt');
      if (refreshAt !== undefined) tx.zadd(keys.credentialsRefreshDue(), Math.round(refreshAt), id);
      else tx.zrem(keys.credentialsRefreshDue(), id);
      await tx.exec();
    },
    async delete(id) {
      const agentId = await redis.hget(keys.credential(id), 'agentId');
      await vault.delete(vaultSlot, id);
      const tx = redis
        .multi()
        .del(keys.credential(id))
        .zrem(keys.credentials(), id)
        .zrem(keys.credentialsByLastUse(), id)
        .zrem(keys.credentialsRefreshDue(), id);
      if (agentId !== null) tx.zrem(keys.agentCredentials(agentId), id);
      await tx.exec();
    },
    list: async (limit) => recordsOf(await redis.zrevrange(keys.credentials(), 0, Math.max(0, limit - 1))),
    listOf: async (agentId, limit) =>
      recordsOf(await redis.zrevrange(keys.agentCredentials(agentId), 0, Math.max(0, limit - 1))),
    async touch(id, at) {
      // Only while it exists: a retrieval racing a delete must not resurrect an empty hash.
      await touchScript.run(redis, lifeKeys(id), [id, String(at), '']);
    },
    async markNeedsLogin(id, reason) {
      await vault.delete(vaultSlot, id);
      await touchScript.run(redis, lifeKeys(id), [id, '', reason]);
    },
    async pastLife(cutoffs, limit) {
      const upTo = (key: string, score: number | undefined) =>
        score === undefined ? Promise.resolve([]) : redis.zrangebyscore(key, '-inf', score, 'LIMIT', 0, limit);
      const [old, unused] = await Promise.all([
        upTo(keys.credentials(), cutoffs.createdBefore),
        upTo(keys.credentialsByLastUse(), cutoffs.usedBefore),
      ]);
      return [...new Set([...old, ...unused])];
    },
    async reindexLastUse(id) {
      await reindexScript.run(redis, [keys.credential(id), keys.credentialsByLastUse()], [id]);
    },
    async claimRefreshes(dueBy, limit, leaseMs) {
      const due = Math.round(dueBy);
      return (await claimRefreshesScript.run(
        redis,
        [keys.credentialsRefreshDue()],
        [due, due + leaseMs, limit],
      )) as string[];
    },
    async deferRefresh(id, at, failed) {
      const failures = (await deferRefreshScript.run(
        redis,
        [keys.credential(id), keys.credentialsRefreshDue()],
        [id, Math.round(at), failed ? '1' : '0'],
      )) as number;
      return failures < 0 ? undefined : failures;
    },
    async dropRefresh(id) {
      await redis.zrem(keys.credentialsRefreshDue(), id);
    },
    lock: (id, ttlMs) => lock(keys.credentialLock(id), ttlMs),
    unlock: (id, token) => unlock(keys.credentialLock(id), token),
    lockSweep: (ttlMs) => lock(keys.credentialSweepLock(), ttlMs),
    unlockSweep: (token) => unlock(keys.credentialSweepLock(), token),
  };
}
