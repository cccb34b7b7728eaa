import { HandoffError } from '../core/errors.js';
import { loginSecretContext } from '../engine/login-secret.js';
import { inboundSealContext } from '../queue/inbound-intake.js';
import { queueKey, queueNames } from '../queue/queue-names.js';
import type { Keys } from '../store/keys.js';
import { decodeRecord } from '../store/handoff-codec.js';
import { LuaScript } from '../store/lua-script.js';
import { scanKeys, type Redis } from '../store/redis.js';
import type { Vault } from '../store/vault.js';

/**
 * `handoff vault rekey`: every sealed value sealed again under the current vault key, so a
 * retired key can be dropped from HANDOFF_VAULT_PREVIOUS_KEYS. The vault's users, and so the
 * places it walks:
 *
 * - `credentials`: vault entries (`<prefix>:vault:*`, issued credentials), sealed under their own key name;
 * - `loginSecrets`: a waiting handoff's protocol secret, inside its record (`<prefix>:hf:*`);
 * - `inboundReplies`: reply text inside queued and recently handled inbound jobs.
 *
 * Safe while bridges run: each value is replaced by a compare-and-set on exactly what was read,
 * so a record that changed meanwhile (a transition, a cancel) is read again, never overwritten
 * with a stale copy. Resumable: a value already under the current key is only checked, so an
 * interrupted run is finished by running it again. A new user of the vault adds its place here.
 */
export const sealedKinds = ['credentials', 'loginSecrets', 'inboundReplies'] as const;
export type SealedKind = (typeof sealedKinds)[number];

export interface RekeyCounts {
  /** Sealed values found. */
  scanned: number;
  /** Sealed again under the current key. */
  resealed: number;
  /** Already under the current key. */
  current: number;
  /** No key the vault holds opens them (the key that sealed them is not in HANDOFF_VAULT_PREVIOUS_KEYS). */
  unreadable: number;
  /** Changed on every try while being resealed (a run later finishes them). */
  busy: number;
}

export interface RekeyReport {
  /** Id of the key everything is now sealed under (as blobs carry it). */
  readonly keyId: string;
  readonly kinds: Readonly<Record<SealedKind, RekeyCounts>>;
  readonly total: RekeyCounts;
}

// KEYS[1]; ARGV: field ('' for a string key), the value read, the value to write.
const replaceIfUnchanged = new LuaScript(`
local current
if ARGV[1] == '' then current = redis.call('GET', KEYS[1]) else current = redis.call('HGET', KEYS[1], ARGV[1]) end
if current ~= ARGV[2] then return 0 end
if ARGV[1] == '' then redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL') else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1
`);

interface Place {
  readonly kind: SealedKind;
  readonly match: string;
  readonly type: 'string' | 'hash';
  /** The hash field holding the value (hash keys). */
  readonly field?: string;
  /** The sealed blob inside a stored value and the context it was sealed under; undefined: none. */
  sealed(key: string, value: string): { blob: string; context: string } | undefined;
}

function jsonField(value: string, field: string): { blob?: unknown } {
  try {
    return { blob: (JSON.parse(value) as Record<string, unknown>)[field] };
  } catch {
    return {};
  }
}

function placesOf(keys: Keys): Place[] {
  const inboundPrefix = queueKey(keys.queuePrefix, queueNames.inbound, '');
  return [
    {
      kind: 'credentials',
      match: keys.vault('*', '*'),
      type: 'string',
      sealed: (key, value) => ({ blob: value, context: key }),
    },
    {
      kind: 'loginSecrets',
      match: keys.handoff('*'),
      type: 'string',
      sealed(_key, value) {
        const record = decodeRecord(value);
        return record?.sealedSecret ? { blob: record.sealedSecret, context: loginSecretContext(record.id) } : undefined;
      },
    },
    {
      kind: 'inboundReplies',
      match: `${inboundPrefix}*`,
      type: 'hash',
      field: 'data',
      sealed(key, value) {
        const { blob } = jsonField(value, 'sealedText');
        return typeof blob === 'string'
          ? { blob, context: inboundSealContext(key.slice(inboundPrefix.length)) }
          : undefined;
      },
    },
  ];
}

const zero = (): RekeyCounts => ({ scanned: 0, resealed: 0, current: 0, unreadable: 0, busy: 0 });
const attempts = 3;

async function readValue(redis: Redis, place: Place, key: string): Promise<string | null> {
  return place.type === 'string' ? redis.get(key) : redis.hget(key, place.field!);
}

/** Reseals one stored value; returns what happened to it. */
async function rekeyOne(redis: Redis, vault: Vault, place: Place, key: string): Promise<keyof RekeyCounts | undefined> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await readValue(redis, place, key);
    if (value === null) return undefined; // gone meanwhile (expired, finished)
    const found = place.sealed(key, value);
    if (!found) return undefined; // holds nothing sealed (a finished handoff, a queue's own hash)
    let fresh: string | undefined;
    try {
      fresh = vault.reseal(found.blob, found.context);
    } catch (err) {
      if (err instanceof HandoffError && err.code === 'vault_unreadable') return 'unreadable';
      throw err;
    }
    if (fresh === undefined) return 'current';
    // A blob is base64url parts and dots: it occurs once in the stored value, and unescaped.
    const updated = value.split(found.blob).join(fresh);
    if ((await replaceIfUnchanged.run(redis, [key], [place.field ?? '', value, updated])) === 1) return 'resealed';
  }
  return 'busy';
}

export async function rekeyVault(deps: {
  redis: Redis;
  keys: Keys;
  /** A vault with the new key as current and the retired ones as previous keys. */
  vault: Vault;
  keyId: string;
  /** Keys read per SCAN page. */
  pageSize?: number;
}): Promise<RekeyReport> {
  const kinds = Object.fromEntries(sealedKinds.map((kind) => [kind, zero()])) as Record<SealedKind, RekeyCounts>;
  for (const place of placesOf(deps.keys)) {
    const counts = kinds[place.kind];
    for await (const page of scanKeys(deps.redis, place.match, { count: deps.pageSize ?? 500, type: place.type })) {
      const outcomes = await Promise.all(page.map((key) => rekeyOne(deps.redis, deps.vault, place, key)));
      for (const outcome of outcomes) {
        if (outcome === undefined) continue;
        counts.scanned += 1;
        counts[outcome] += 1;
      }
    }
  }
  const total = zero();
  for (const counts of Object.values(kinds))
    for (const name of Object.keys(total) as Array<keyof RekeyCounts>) total[name] += counts[name];
  return { keyId: deps.keyId, kinds, total };
}
