import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/core/secret-patterns.js';
import { openAuditSink } from '../../src/store/audit-sink.js';
import { completedLogin, createTestAgent } from '../helpers/agents.js';
import { connectTestRedis, deletePrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * The audit outside Redis (`HANDOFF_AUDIT_SINK=file:PATH`): JSON lines appended to a 0600
 * file, each naming the caller, source address and request id, never a secret, and still
 * there when Redis is wiped.
 */
describe('audit sink: file', () => {
  let dir: string;
  let path: string;
  let bridge: TestBridge;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handoff-audit-'));
    path = join(dir, 'audit.jsonl');
    bridge = await startTestBridge('audit-sink', { env: { HANDOFF_AUDIT_SINK: `file:${path}` } });
  });
  afterAll(async () => {
    await bridge.close();
    await rm(dir, { recursive: true, force: true });
  });

  const lines = async () =>
    (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);

  it('appends every entry as one JSON line naming who, from where, in which request; the file is 0600', async () => {
    const agent = await createTestAgent(bridge, 'audited');
    const { handoffId, credentialId } = await completedLogin(bridge, agent);
    const res = await agent.call('POST', `/v1/handoffs/${handoffId}/credential`);
    expect(res.status).toBe(200);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const all = await lines();
    expect(all.find((l) => l.event === 'agent.created')).toMatchObject({
      actor: 'admin',
      agentId: 'audited',
      source: expect.stringMatching(/127\.0\.0\.1$/),
      requestId: expect.stringMatching(/^req_/),
    });
    expect(all.find((l) => l.event === 'handoff.created' && l.handoffId === handoffId)).toMatchObject({
      actor: 'agent:audited',
    });
    expect(all.find((l) => l.event === 'reply.accepted' && l.handoffId === handoffId)).toMatchObject({
      actor: 'alice',
    });
    const retrieved = all.find(
      (l) => l.event === 'credential.retrieved' && l.requestId === res.headers.get('x-request-id'),
    );
    expect(retrieved).toMatchObject({
      actor: 'agent:audited',
      agentId: 'audited',
      handoffId,
      detail: { credentialId },
    });
    expect(new Date(retrieved!.time).getTime()).toBeGreaterThan(Date.now() - 60_000);
    // The same entries as the Redis stream, one line each.
    const stream = await bridge.bridge.engine.audit.recent(1_000);
    expect(
      all
        .filter((l) => l.handoffId === handoffId)
        .map((l) => l.event)
        .sort(),
    ).toEqual(
      stream
        .filter((e) => e.handoffId === handoffId)
        .map((e) => e.event)
        .sort(),
    );
    expect(findSecrets(await readFile(path, 'utf8'))).toEqual([]);
    expect(await readFile(path, 'utf8')).not.toContain(agent.key);
  });

  it('outlives a wiped Redis', async () => {
    const agent = await createTestAgent(bridge, 'wiped');
    const created = await agent.api.createHandoff({ service: `${bridge.url}/sandbox`, thread: freshThread('wipe') });
    const redis = connectTestRedis();
    await deletePrefix(redis, bridge.prefix);
    redis.disconnect();
    // The wipe took the creation out of Redis (the driver, still running, may write later steps).
    const left = await bridge.bridge.engine.audit.recent(100, created.id);
    expect(left.map((e) => e.event)).not.toContain('handoff.created');
    expect((await lines()).find((l) => l.event === 'handoff.created' && l.handoffId === created.id)).toMatchObject({
      actor: 'agent:wiped',
    });
  });
});

describe('audit sink: opening', () => {
  it('appends to an existing file and never truncates it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'handoff-audit-'));
    const path = join(dir, 'audit.jsonl');
    await writeFile(path, '{"earlier":"history"}\n', { mode: 0o600 });
    const sink = (await openAuditSink({ kind: 'file', path }))!;
    await sink.write(
      {
        event: 'agent.created',
        actor: 'admin',
        agentId: 'x',
        detail: { token: 'hak_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn' },
      },
      Date.UTC(2030, 0, 1),
    );
    await sink.close();
    const text = await readFile(path, 'utf8');
    expect(text.split('\n')[0]).toBe('{"earlier":"history"}');
    // Masked like a log line, should a secret ever slip into an entry.
    expect(JSON.parse(text.split('\n')[1]!)).toEqual({
      time: '2030-01-01T00:00:00.000Z',
      event: 'agent.created',
      actor: 'admin',
      agentId: 'x',
      detail: { token: '[redacted]' },
    });
    await rm(dir, { recursive: true, force: true });
  });

  it('writes to stdout as JSON lines, and says which variable to fix when the file cannot be opened', async () => {
    const out: string[] = [];
    const sink = (await openAuditSink({ kind: 'stdout' }, (line) => out.push(line)))!;
    await sink.write({ event: 'handoff.created', actor: 'agent:a', source: '::1', requestId: 'req_1' }, 0);
    expect(out).toEqual([
      '{"time":"1970-01-01T00:00:00.000Z","event":"handoff.created","actor":"agent:a","source":"::1","requestId":"req_1"}\n',
    ]);
    expect(await openAuditSink({ kind: 'off' })).toBeUndefined();
    await expect(openAuditSink({ kind: 'file', path: '/nonexistent-dir/audit.jsonl' })).rejects.toMatchObject({
      variable: 'HANDOFF_AUDIT_SINK',
    });
  });
});
