import { describe, expect, it } from 'vitest';
import { benchPart, type BenchContext, type RunnablePart } from '../../bench/bench-part.js';
import { render, type MachineFacts } from '../../bench/report.js';
import { failureMessage, maxFailureMessage, reportOf, runParts } from '../../bench/run-parts.js';

/**
 * The bench's loop over its parts, with parts of the test's own: one that throws is recorded
 * (name, masked message) and the others still run and are reported, in order.
 */
const agentKey = `hak_${'k'.repeat(40)}`;
const token = `aat_${'t'.repeat(24)}`;

const figure = (name: string, value: number): RunnablePart =>
  benchPart({
    name,
    title: `the ${name} figure`,
    flags: {},
    run: async () => ({ value }),
    checks: (r) => [{ figure: `${name} value`, measured: String(r.value), target: '> 0', pass: r.value > 0 }],
    details: () => `${name} details`,
  });
const broken = (name: string, error: unknown): RunnablePart =>
  benchPart({
    name,
    title: `the ${name} figure`,
    flags: {},
    run: async () => {
      throw error;
    },
    checks: () => [],
  });

const context = (lines: string[]): BenchContext =>
  ({
    base: 'bench-test',
    progress: (msg: string) => void lines.push(msg),
    int: () => 1,
    track: (p: string) => p,
  }) as unknown as BenchContext;

describe('bench runner: one part failing costs only its own figures', () => {
  it('runs every part after a failure, records the failure, and cleans up once per failed part', async () => {
    const lines: string[] = [];
    let cleanUps = 0;
    const parts = [
      figure('first', 1),
      broken('burst', new Error(`redis://bench:s3cret@127.0.0.1:6379 refused ${agentKey}\nBearer ${token}`)),
      figure('second', 2),
      broken('memory', 'a string thrown'),
    ];
    const run = await runParts(parts, context(lines), { afterFailure: async () => void (cleanUps += 1) });
    expect(Object.keys(run.outcomes)).toEqual(['first', 'second']);
    expect(run.outcomes.second?.result).toEqual({ value: 2 });
    expect(run.failures.map((f) => f.part)).toEqual(['burst', 'memory']);
    expect(run.failures[1]!.error).toBe('a string thrown');
    expect(cleanUps).toBe(2);
    const burst = run.failures[0]!.error;
    for (const secret of ['s3cret', agentKey, token]) {
      expect(burst).not.toContain(secret);
      expect(lines.join('\n')).not.toContain(secret);
    }
    expect(burst).toBe('redis://***@127.0.0.1:6379 refused [redacted] Bearer [redacted]');

    const { checks, details } = reportOf(parts, run);
    expect(checks.map((c) => [c.figure, c.pass])).toEqual([
      ['first value', true],
      ['burst: the burst figure', false],
      ['second value', true],
      ['memory: the memory figure', false],
    ]);
    expect(checks[1]!.measured).toBe(`part failed: ${burst}`);
    expect(details).toEqual(['first details', 'second details']);
    const machine = {
      node: 'v20',
      os: 'Linux',
      cpus: 2,
      cpuModel: 'x',
      memoryGiB: 4,
      redis: '7',
      loadAverage: { start: 1 },
    };
    const table = render(machine as MachineFacts, checks, details, 1_000);
    expect(table).toMatch(/burst: the burst figure\s+part failed: redis:\/\/\*\*\*@.*FAIL/);
    expect(table).toMatch(/second value\s+2\s+> 0\s+PASS/);
  });

  it('keeps going when the clean-up after a failure fails too', async () => {
    const lines: string[] = [];
    const run = await runParts([broken('a', new Error('boom')), figure('b', 1)], context(lines), {
      afterFailure: async () => {
        throw new Error('could not stop the bridges');
      },
    });
    expect(run.failures).toEqual([{ part: 'a', error: 'boom' }]);
    expect(Object.keys(run.outcomes)).toEqual(['b']);
    expect(lines.some((l) => l.includes('could not stop the bridges'))).toBe(true);
  });

  it('reports a failure in one line of bounded length, with the error class when it is not a plain Error', () => {
    const long = failureMessage(new TypeError(`x\n\t${'é'.repeat(2_000)}`));
    expect(long.startsWith('TypeError: x é')).toBe(true);
    expect(Array.from(long)).toHaveLength(maxFailureMessage);
    expect(long).not.toMatch(/\n/);
    expect(failureMessage(new Error(''))).toBe('failed without a message');
    expect(failureMessage(undefined)).toBe('undefined');
  });
});
