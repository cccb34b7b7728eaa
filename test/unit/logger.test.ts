import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, stderrFlushMs, stderrSink, type LoggerOptions } from '../../src/core/logger.js';
import { findSecrets, maskSecrets, registerSecretShapes, secretLike } from '../../src/core/secret-patterns.js';
// Registers the shapes each login protocol declares (agent-sessions tokens, auth.md claim tokens).
import '../../src/main.js';

/** A logger whose lines stay in memory (never in the suite's log directory). */
function memoryLogger(options: Omit<LoggerOptions, 'sink'> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, sink: (line) => lines.push(line) });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

// Secret-shaped values, one per pattern family. Built at run time so this file holds none whole.
const h = (n: number) => '9f2c4e6a8b0d1f3e5a7c'.repeat(4).slice(0, n);
const planted = {
  finishCode: `aae_${h(48)}`,
  accessToken: `aas_${'Q7mZ2xK9'.repeat(4)}`,
  refreshToken: `aar_${'Lp3Vn8Rt'.repeat(4)}`,
  pollToken: `aap_${'Wd5Hs1Jf'.repeat(4)}`,
  claimToken: `clm_${'tK4-qB7_'.repeat(3)}`,
  readBackRefresh: `art_${'Nm4Bv7Cx'.repeat(3)}`,
  sandboxAssertion: `asr_${h(48)}`,
  verifier: h(64),
  slackBot: `${'xoxb'}-1234567890-0987654321-${'AbCdEfGh'.repeat(3)}`,
  slackApp: `${'xapp'}-1-A012345-${'9'.repeat(12)}`,
  github: `${'ghp'}_${'aB3dE5gH7jK9mN1pQ3sT5vX7z'}`,
  githubPat: `${'github_pat'}_${'11ABCDEFG0123456789_abcdefghij'}`,
  linear: `${'lin_api'}_${'Zk8Yx7Wv6Ut5Sr4Qp3On2Ml1'}`,
  linearOauth: `${'lin_oauth'}_${'Hg7Fd6Sa5Lk4Jh3Gf2Ds1Aq0'}`,
  linearWebhookSecret: `${'lin_wh'}_${'Rt5Ew4Qa3Zs2Xd1Cf0Vg9Bh8'}`,
} as const;
const bearerValue = 'eyJhbGciOiJIUzI1NiJ9.payload.sig';

describe('createLogger', () => {
  it('writes one JSON object per line with time, level, msg, bindings and fields', () => {
    const { logger, lines, records } = memoryLogger({ bindings: { service: 'handoff' } });
    logger.info('handoff created', { handoffId: 'hf_6f1c0a9e4b2d7c35a1e0f2b8', attempts: 0 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [record] = records();
    expect(record).toMatchObject({
      level: 'info',
      msg: 'handoff created',
      service: 'handoff',
      handoffId: 'hf_6f1c0a9e4b2d7c35a1e0f2b8',
      attempts: 0,
    });
    expect(record!.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('adds child bindings to every line without changing the parent', () => {
    const { logger, records } = memoryLogger({ bindings: { service: 'handoff' } });
    const child = logger.child({ handoffId: 'hf_1' }).child({ jobId: 'job-7' });
    child.warn('slow poll');
    logger.warn('parent line');
    const [fromChild, fromParent] = records();
    expect(fromChild).toMatchObject({ service: 'handoff', handoffId: 'hf_1', jobId: 'job-7', level: 'warn' });
    expect(fromParent).not.toHaveProperty('handoffId');
    expect(fromParent).not.toHaveProperty('jobId');
  });

  it.each([
    { level: 'debug', written: ['debug', 'info', 'warn', 'error'] },
    { level: 'info', written: ['info', 'warn', 'error'] },
    { level: 'warn', written: ['warn', 'error'] },
    { level: 'error', written: ['error'] },
  ] as const)('at level $level writes $written', ({ level, written }) => {
    const { logger, records } = memoryLogger({ level });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((r) => r.level)).toEqual(written);
  });

  it('defaults to info', () => {
    const { logger, lines } = memoryLogger();
    logger.debug('hidden');
    logger.info('shown');
    expect(lines).toHaveLength(1);
  });

  it('keeps the level for child loggers', () => {
    const { logger, lines } = memoryLogger({ level: 'warn' });
    logger.child({ a: 1 }).info('dropped');
    expect(lines).toEqual([]);
  });

  it('serialises Error fields as name, message and code, without the stack', () => {
    const { logger, records, lines } = memoryLogger();
    const err = Object.assign(new TypeError('service answered 502'), { code: 'upstream_failed' });
    logger.error('poll failed', { err, plain: new Error('no code') });
    expect(records()[0]).toMatchObject({
      err: { type: 'TypeError', message: 'service answered 502', code: 'upstream_failed' },
      plain: { type: 'Error', message: 'no code' },
    });
    expect(records()[0]!.plain).not.toHaveProperty('code');
    expect(lines[0]).not.toContain('at ');
  });

  it('writes pretty lines when asked', () => {
    const { logger, lines } = memoryLogger({ format: 'pretty' });
    logger.info('ready', { port: 8080, url: 'http://127.0.0.1:8080' });
    expect(lines[0]).toMatch(/^\d{2}:\d{2}:\d{2} info {2}ready {2}port=8080 url=http:\/\/127\.0\.0\.1:8080$/);
  });
});

describe('the logger masks secrets that slip in', () => {
  it.each(Object.entries(planted))('%s in the message', (_name, secret) => {
    const { logger, lines } = memoryLogger();
    logger.info(`exchange returned ${secret} for the agent`);
    expect(lines[0]).not.toContain(secret);
    expect(JSON.parse(lines[0]!).msg).toBe('exchange returned [redacted] for the agent');
  });

  it.each(Object.entries(planted))('%s in a field, a nested field and an error', (_name, secret) => {
    const { logger, lines, records } = memoryLogger();
    logger.error('oops', {
      token: secret,
      body: { agent_session: { access_token: secret } },
      err: new Error(`bad ${secret}`),
    });
    expect(lines[0]).not.toContain(secret);
    expect(records()[0]).toMatchObject({
      token: '[redacted]',
      body: { agent_session: { access_token: '[redacted]' } },
      err: { message: 'bad [redacted]' },
    });
  });

  it('keeps the word Bearer and masks the credential', () => {
    const { logger, lines, records } = memoryLogger({ bindings: { authorization: `Bearer ${bearerValue}` } });
    logger.info(`sent bearer ${bearerValue}`);
    expect(lines[0]).not.toContain(bearerValue);
    expect(records()[0]).toMatchObject({ msg: 'sent bearer [redacted]', authorization: 'Bearer [redacted]' });
  });

  it('masks in pretty lines too', () => {
    const { logger, lines } = memoryLogger({ format: 'pretty' });
    logger.info(`code ${planted.finishCode}`, { refresh: planted.refreshToken });
    expect(findSecrets(lines[0]!)).toEqual([]);
    expect(lines[0]).toContain('code [redacted]');
  });

  it('masks a secret right after a newline, which JSON escaping turns into \\n', () => {
    const { logger, lines } = memoryLogger();
    logger.info(`exchange failed:\n${planted.accessToken}`);
    expect(lines[0]).not.toContain(planted.accessToken);
  });
});

describe('findSecrets', () => {
  it.each(Object.entries(planted))('finds a planted %s', (_name, secret) => {
    expect(findSecrets(`{"level":"info","msg":"value ${secret} leaked"}`)).toEqual([secret]);
  });

  it('finds a bearer credential', () => {
    expect(findSecrets(`authorization: Bearer ${bearerValue}`)).toEqual([`Bearer ${bearerValue}`]);
  });

  it('finds every secret in a line, not just the first', () => {
    const line = `${planted.accessToken} and ${planted.refreshToken} and ${planted.verifier}`;
    expect(findSecrets(line).sort()).toEqual([planted.accessToken, planted.refreshToken, planted.verifier].sort());
  });

  it('finds nothing once masked', () => {
    const line = Object.values(planted).join(' ');
    expect(findSecrets(line).length).toBe(Object.keys(planted).length);
    expect(findSecrets(maskSecrets(line))).toEqual([]);
  });

  it('gives the same answer when called twice (no shared regex state)', () => {
    const line = `x ${planted.pollToken} y`;
    expect(findSecrets(line)).toEqual(findSecrets(line));
    expect(findSecrets(line)).toHaveLength(1);
  });

  it.each([
    '{"time":"2025-03-04T05:06:07.089Z","level":"info","msg":"handoff created","handoffId":"hf_6f1c0a9e4b2d7c35a1e0f2b8"}',
    '{"msg":"credential stored","credentialId":"cr_0a1b2c3d4e5f60718293a4b5","handoffId":"hf_00112233445566778899aabb"}',
    '{"msg":"approval posted","approvalUrl":"https://analytics.example/agent-sessions/approve/ar_5b2e9d0c7a1f4e83b6d2c9a0"}',
    '{"msg":"poll","url":"http://127.0.0.1:4010/sandbox/approve/ar_0123456789abcdef01234567?mode=detached"}',
    '{"msg":"reply seen","thread":"slack:C0123ABCD/1700000000.000100","messageId":"demo.5f3a9c21b4e8d7f6"}',
    '{"msg":"scopes","scopes":["account:read","projects:write","analytics:read"],"status":"awaiting_human"}',
    '{"msg":"sha1 of the fixture","sha1":"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"}',
    '{"msg":"wrong code","attempts":3,"maxAttempts":5,"code":"wrong_code","bearer":"none"}',
    '14:03:12 info  ready  port=8080 url=http://127.0.0.1:8080 prefix=handoff-test-4f2a',
  ])('finds nothing in %s', (line) => {
    expect(findSecrets(line)).toEqual([]);
    expect(maskSecrets(line)).toBe(line);
  });
});

describe('registerSecretShapes', () => {
  it('adds a shape once, however often it is registered, and masks it from then on', () => {
    const value = `zzq_${h(20)}`;
    expect(findSecrets(`x ${value} y`)).toEqual([]);
    registerSecretShapes([secretLike(String.raw`zzq_[a-f0-9]{16,}`)]);
    registerSecretShapes([secretLike(String.raw`zzq_[a-f0-9]{16,}`)]);
    expect(findSecrets(`x ${value} y`)).toEqual([value]);
    expect(maskSecrets(`x ${value} y`)).toBe('x [redacted] y');
  });

  it('refuses a shape without the global flag (it would mask only the first match)', () => {
    expect(() => registerSecretShapes([/zzr_[a-f0-9]{16,}/])).toThrow(/needs the g flag/);
  });
});

describe('the default sink (stderr, written in batches)', () => {
  const batchWritten = () => new Promise((resolve) => setTimeout(resolve, stderrFlushMs + 10));

  it('writes the lines of a batch in one write, in order, after it', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const logger = createLogger({ bindings: { test: 'sink' } });
      logger.info('first');
      logger.warn('second');
      stderrSink('third as is');
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('fourth, a turn later');
      expect(write).not.toHaveBeenCalled();
      await batchWritten();
      expect(write).toHaveBeenCalledTimes(1);
      const lines = String(write.mock.calls[0]![0]).split('\n');
      expect(lines).toHaveLength(5); // four lines, each ending in a newline
      expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'first', level: 'info', test: 'sink' });
      expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'second', level: 'warn' });
      expect(lines[2]).toBe('third as is');
      expect(JSON.parse(lines[3]!)).toMatchObject({ msg: 'fourth, a turn later' });
      logger.info('next batch');
      await batchWritten();
      expect(write).toHaveBeenCalledTimes(2);
    } finally {
      write.mockRestore();
    }
  });

  it('a batch past 64 KiB is written at once', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const line = 'x'.repeat(1_000);
      for (let i = 0; i < 70; i++) stderrSink(line);
      expect(write).toHaveBeenCalledTimes(1);
      expect(String(write.mock.calls[0]![0]).split('\n')).toHaveLength(67); // 66 lines of 1,001 B reach 64 KiB
      await batchWritten(); // the other 4, on time
      expect(write).toHaveBeenCalledTimes(2);
      expect(String(write.mock.calls[1]![0]).split('\n')).toHaveLength(5);
    } finally {
      write.mockRestore();
    }
  });

  it('a process that exits before its batch is due still writes every line', () => {
    const logger = fileURLToPath(new URL('../../src/core/logger.ts', import.meta.url));
    const script = `import { createLogger } from ${JSON.stringify(logger)};
const log = createLogger();
for (let i = 0; i < 3; i++) log.error('line ' + i);
process.exit(3);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(3);
    const messages = run.stderr
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(['line 0', 'line 1', 'line 2']);
  });
});
