import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';

describe('handoff store: atomic transitions on real Redis', () => {
  const redis = connectTestRedis();
  const subscriber = connectTestRedis();
  const prefix = randomPrefix('store');
  const keys = createKeys(prefix);
  let now = Date.now();
  const store = createHandoffStore({ redis, keys, now: () => now });

  const record = (id: string, thread = 'local:store'): HandoffRecord => ({
    id,
    kind: 'login',
    status: 'awaiting_human',
    version: 0,
    service: 'https://svc.example',
    protocol: 'agent-sessions',
    thread,
    approvers: ['alice'],
    agentId: 'a1',
    correlationId: 'c1',
    scopes: ['s1'],
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 60_000,
    attempts: 0,
  });

  beforeAll(async () => {
    await subscriber.ping(); // connected and ready before entering subscriber mode
    await subscriber.subscribe(keys.events());
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
    subscriber.disconnect();
  });

  it('round-trips a record exactly', async () => {
    const r = {
      ...record('hf_roundtrip'),
      approverEmail: 'a@example.com',
      approvalUrl: 'https://x/authorize/1',
      answer: 'finish_code' as const,
    };
    await store.create(r);
    expect(await store.get('hf_roundtrip')).toEqual(r);
  });

  it('stores the usual values compactly and gives them back exactly after a scripted update', async () => {
    const pending = { ...record('hf_compact'), status: 'pending' as const, approvers: [], scopes: [] };
    await store.create(pending);
    const note = [
      String.raw`a backslash before a slash \/, two \\/, and a URL https://svc.example/a/b`,
      { value: 'https://svc.example/c/d' },
    ];
    const moved = await store.transition('hf_compact', {
      to: 'awaiting_human',
      set: { approvalUrl: 'https://svc.example/authorize/ar_1', answer: 'finish_code', approvers: [], note },
    });
    expect(moved).toMatchObject({
      ok: true,
      record: { approvalUrl: 'https://svc.example/authorize/ar_1', answer: 'finish_code', approvers: [], note },
    });
    expect(await store.get('hf_compact')).toEqual((moved as { record: HandoffRecord }).record);
    const stored = (await redis.get(keys.handoff('hf_compact')))!;
    // No escaped slashes, no empty lists, no default answer: each byte stays while a person thinks.
    expect(stored).toContain('a URL https://svc.example/a/b');
    expect((JSON.parse(stored) as { note: unknown }).note).toEqual(note);
    expect(stored).not.toMatch(/"(approvers|scopes|answer)"/);
    // Long names every waiting login carries are stored short.
    expect(stored).toContain('"aL":"https://svc.example/authorize/ar_1"');
    expect(stored).not.toContain('approvalUrl');

    const emailed = await store.transition('hf_compact', { from: ['awaiting_human'], set: { answer: 'email_code' } });
    expect(emailed).toMatchObject({ ok: true, record: { answer: 'email_code' } });
    expect(await redis.get(keys.handoff('hf_compact'))).toContain('"answer":"email_code"');
  });

  it('reads a record stored with the long field names, and a scripted update leaves one name per field', async () => {
    const { id, ...rest } = record('hf_legacy');
    const legacy = {
      id,
      ...rest,
      approvalUrl: 'https://svc.example/authorize/ar_2',
      sealedSecret: 'v1.old',
      nextPollAt: 5,
      serviceName: 'Old Service',
    };
    await redis.set(keys.handoff('hf_legacy'), JSON.stringify(legacy));
    expect(await store.get('hf_legacy')).toMatchObject({
      approvalUrl: 'https://svc.example/authorize/ar_2',
      sealedSecret: 'v1.old',
      nextPollAt: 5,
      serviceName: 'Old Service',
    });
    const moved = await store.transition('hf_legacy', {
      from: ['awaiting_human'],
      set: { sealedSecret: 'v1.new', nextPollAt: undefined },
    });
    expect(moved).toMatchObject({ ok: true, record: { sealedSecret: 'v1.new', serviceName: 'Old Service' } });
    expect((moved as { record: HandoffRecord }).record.nextPollAt).toBeUndefined();
    const stored = JSON.parse((await redis.get(keys.handoff('hf_legacy')))!) as Record<string, unknown>;
    expect(stored).toMatchObject({ sS: 'v1.new', approvalUrl: 'https://svc.example/authorize/ar_2' });
    expect(stored).not.toHaveProperty('sealedSecret');
    expect(stored).not.toHaveProperty('nextPollAt');
    expect(stored).not.toHaveProperty('pN');
  });

  it('keeps the waiting timers compact through scripted updates and gives them back exactly', async () => {
    const timed: HandoffRecord = {
      ...record('hf_timers'),
      remind: { afterMs: 60_000, everyMs: 120_000, max: 2 },
      remindAt: now + 60_000,
      warnBeforeMs: 30_000,
      escalate: [
        { afterMs: 90_000, approvers: ['olga', 'pat'], thread: 'local:oncall' },
        { afterMs: 100_000, approvers: ['quinn'] },
      ],
    };
    await store.create(timed);
    const stored = (await redis.get(keys.handoff('hf_timers')))!;
    expect(stored).not.toMatch(/afterMs|"rA"/);
    // Lua's cjson decodes and re-encodes the arrays in a compare-and-set that leaves them alone.
    const voted = await store.transition('hf_timers', {
      from: ['awaiting_human'],
      set: { approverEmail: 'a@x.example' },
    });
    expect(voted).toMatchObject({ ok: true, record: { ...timed, approverEmail: 'a@x.example', version: 1 } });
    expect(await store.get('hf_timers')).toEqual((voted as { record: HandoffRecord }).record);
    expect(JSON.parse((await redis.get(keys.handoff('hf_timers')))!)).toMatchObject({
      rP: [60_000, 120_000, 2],
      eP: [
        [90_000, ['olga', 'pat'], 'local:oncall'],
        [100_000, ['quinn']],
      ],
    });
    // The first reminder sent: the next one's moment is stored, the last one leaves none.
    const reminded = await store.transition('hf_timers', {
      from: ['awaiting_human'],
      set: { reminded: 1, remindAt: now + 180_000 },
    });
    expect(reminded).toMatchObject({ ok: true, record: { reminded: 1, remindAt: now + 180_000 } });
    await store.transition('hf_timers', { from: ['awaiting_human'], set: { reminded: 2, remindAt: undefined } });
    const last = await store.get('hf_timers');
    expect(last).toMatchObject({ reminded: 2, remind: timed.remind });
    expect(last?.remindAt).toBeUndefined();
  });

  it('lets exactly one of 50 concurrent claimants move a handoff to claiming', async () => {
    await store.create(record('hf_race'));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.transition('hf_race', { to: 'claiming', from: ['awaiting_human'], set: { claimedBy: `job-${i}` } }),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const after = await store.get('hf_race');
    expect(after?.status).toBe('claiming');
    expect(after?.version).toBe(1);
    expect(after?.claimedBy).toBe((winners[0] as { record: HandoffRecord }).record.claimedBy);
    for (const loser of results.filter((r) => !r.ok))
      expect(loser).toMatchObject({ ok: false, reason: 'conflict', record: { status: 'claiming' } });
  });

  it('refuses transitions the state machine forbids and stale versions', async () => {
    await store.create(record('hf_rules'));
    expect((await store.transition('hf_rules', { to: 'completed' })).ok).toBe(false); // awaiting_human → completed is not allowed
    expect((await store.transition('hf_rules', { to: 'cancelled', expectVersion: 7 })).ok).toBe(false);
    const ok = await store.transition('hf_rules', {
      to: 'cancelled',
      expectVersion: 0,
      set: { error: { code: 'cancelled', message: 'by test' } },
    });
    expect(ok.ok).toBe(true);
    expect((await store.transition('hf_rules', { to: 'expired' })).ok).toBe(false); // terminal stays terminal
    expect(await store.transition('hf_missing', { to: 'expired' })).toEqual({ ok: false, reason: 'not_found' });
  });

  it('updates fields without a status change, removes fields set to undefined, and stamps updatedAt', async () => {
    await store.create({ ...record('hf_fields'), nextPollAt: 5 });
    now += 10;
    const result = await store.transition('hf_fields', {
      from: ['awaiting_human'],
      set: { nextPollAt: undefined, attempts: 2 },
    });
    expect(result.ok && result.record).toMatchObject({
      status: 'awaiting_human',
      attempts: 2,
      version: 1,
      updatedAt: now,
    });
    expect(result.ok && result.record.nextPollAt).toBeUndefined();
  });

  it('keeps the thread index to open handoffs and publishes status changes, endings with their agent', async () => {
    const messages: string[] = [];
    subscriber.on('message', (_c, m) => messages.push(m));
    await store.create(record('hf_open1', 'local:idx'));
    now += 1;
    await store.create(record('hf_open2', 'local:idx'));
    expect((await store.openInThread('local:idx')).map((r) => r.id)).toEqual(['hf_open1', 'hf_open2']);
    await store.transition('hf_open1', { to: 'expired' });
    expect((await store.openInThread('local:idx')).map((r) => r.id)).toEqual(['hf_open2']);
    expect(await redis.pttl(keys.handoff('hf_open1'))).toBeGreaterThan(6 * 24 * 3_600_000);
    await new Promise((r) => setTimeout(r, 50));
    // An ending names its agent too (it wakes long polls on that agent's feed of endings).
    expect(messages).toContain('hf_open1 expired a1');
  });
});
