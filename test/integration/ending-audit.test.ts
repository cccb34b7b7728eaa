import { afterAll, describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { createAuditLog, type AuditEntry } from '../../src/store/audit-log.js';
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';

/**
 * A handoff's ending and its `handoff.<status>` audit entry are written by one script (the
 * transition), so no crash can leave an ending unaudited (test/e2e/multi-process.test.ts kills
 * a worker mid-run). The entry must be exactly what AuditLog.append writes for it.
 */
describe('ending audit: the transition that ends a handoff writes its audit entry', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('endaudit');
  const keys = createKeys(prefix);
  const store = createHandoffStore({ redis, keys, now: Date.now });
  const audit = createAuditLog({ redis, keys });

  const record = (id: string, extra: Partial<HandoffRecord> = {}): HandoffRecord => ({
    id,
    kind: 'login',
    status: 'awaiting_human',
    version: 0,
    service: 'https://svc.example',
    protocol: 'agent-sessions',
    thread: `local:${id}`,
    approvers: ['alice'],
    agentId: 'a1',
    correlationId: id,
    scopes: ['s1'],
    createdAt: Date.now(),
    updatedAt: Date.now(),
    expiresAt: Date.now() + 60_000,
    attempts: 0,
    ...extra,
  });
  const rawEntries = async () => (await redis.xrange(keys.audit(), '-', '+')).map(([, fields]) => fields);
  const endingsOf = async (id: string) =>
    (await rawEntries()).filter((f) => f[f.indexOf('handoffId') + 1] === id && f[1]!.startsWith('handoff.'));

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('keeps the audit stream in the handoff records’ cluster slot', () => {
    expect(keys.audit()).toBe(`${prefix}:{hf}:audit`);
  });

  it('writes, byte for byte, what AuditLog.append writes: correlation id equal to the id left empty, the error code from the patch', async () => {
    await store.create(record('hf_fail'));
    const origin = { actor: 'agent:a1', source: '127.0.0.1', requestId: 'req_abc' };
    const result = await store.transition('hf_fail', {
      to: 'failed',
      agentId: 'a1',
      set: { error: { code: 'login_failed', message: 'the service said no' } },
      audit: origin,
    });
    expect(result.ok).toBe(true);
    const [scripted] = await endingsOf('hf_fail');
    // The same entry through AuditLog.append, as finish.ts wrote it before.
    const entry: AuditEntry = {
      event: 'handoff.failed',
      handoffId: 'hf_fail',
      agentId: 'a1',
      correlationId: 'hf_fail',
      ...origin,
      detail: { status: 'failed', error: 'login_failed' },
    };
    await audit.append(entry);
    const all = await rawEntries();
    expect(scripted).toEqual(all.at(-1));
    expect(scripted![scripted!.indexOf('correlationId') + 1]).toBe('');
    const [read] = await audit.recent(2, 'hf_fail');
    expect(read).toMatchObject(entry);
  });

  it('keeps a distinct correlation id, writes no error for a completion, and names the bridge when told to', async () => {
    await store.create(record('hf_done', { status: 'claiming', correlationId: 'corr/7' }));
    await store.transition('hf_done', { to: 'completed', agentId: 'a1', audit: { actor: 'bridge' } });
    const [read] = await audit.recent(1, 'hf_done');
    expect(read).toMatchObject({
      event: 'handoff.completed',
      handoffId: 'hf_done',
      agentId: 'a1',
      correlationId: 'corr/7',
      actor: 'bridge',
      detail: { status: 'completed' },
    });
    expect(read).not.toHaveProperty('source');
    expect(read).not.toHaveProperty('requestId');
  });

  it('takes the error code of the finished record, hostile text included, and exactly as JSON.stringify would read', async () => {
    const code = 'x"/\\</script>é\u2028{}';
    // An error already on the record, replaced by the patch: the finished record's counts.
    await store.create(record('hf_hostile', { error: { code: 'earlier', message: 'm' } }));
    await store.transition('hf_hostile', {
      to: 'expired',
      agentId: 'a1',
      set: { error: { code, message: 'm' } },
      audit: { actor: 'bridge:timer' },
    });
    const [read] = await audit.recent(1, 'hf_hostile');
    expect(read?.detail).toEqual({ status: 'expired', error: code });
    // The record's own error left in place when the patch does not touch it.
    await store.create(record('hf_kept', { error: { code: 'kept_code', message: 'm' } }));
    await store.transition('hf_kept', { to: 'cancelled', agentId: 'a1', audit: { actor: 'admin' } });
    expect((await audit.recent(1, 'hf_kept'))[0]?.detail).toEqual({ status: 'cancelled', error: 'kept_code' });
  });

  it('writes one entry when 20 callers race to end the same handoff, and none for the losers', async () => {
    await store.create(record('hf_race'));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.transition('hf_race', { to: 'cancelled', agentId: 'a1', audit: { actor: `agent:r${i}` } }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await endingsOf('hf_race')).toHaveLength(1);
  });

  it('writes nothing for a transition that does not end the handoff, or one that names no actor', async () => {
    await store.create(record('hf_quiet', { status: 'claiming' }));
    expect(
      (await store.transition('hf_quiet', { from: ['claiming'], set: { attempts: 1 }, audit: { actor: 'bridge' } })).ok,
    ).toBe(true);
    expect((await store.transition('hf_quiet', { to: 'completed', agentId: 'a1' })).ok).toBe(true);
    expect(await endingsOf('hf_quiet')).toEqual([]);
    // A refused ending (the record is finished already) writes nothing either.
    const refused = await store.transition('hf_quiet', { to: 'cancelled', agentId: 'a1', audit: { actor: 'admin' } });
    expect(refused).toMatchObject({ ok: false, reason: 'conflict' });
    expect(await endingsOf('hf_quiet')).toEqual([]);
  });
});
