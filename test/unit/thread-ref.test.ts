import { describe, expect, it } from 'vitest';
import { parseLocalThread } from '../../adapters/local/local-thread.js';
import { BadInputError } from '../../src/core/errors.js';
import { invalidThreadRef, splitThreadRef } from '../../src/core/thread-ref.js';
import { platforms } from '../../src/main.js';

/** The BadInputError `fn` throws (fails the test when it throws nothing or something else). */
function badInput(fn: () => unknown): BadInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    return err as BadInputError;
  }
  throw new Error('expected a BadInputError');
}

/** The platforms src/main.ts registers, in its order. */
const known = ['local', 'slack', 'github', 'linear'];

describe('splitThreadRef', () => {
  it('knows the platforms src/main.ts registers', () => {
    expect(platforms.map((p) => p.name)).toEqual(known);
  });

  it.each([
    ['slack:C0123ABCD/1700000000.000100', 'slack', 'C0123ABCD/1700000000.000100'],
    ['SLACK:C0123ABCD/1700000000.000100', 'slack', 'C0123ABCD/1700000000.000100'],
    ['  github:acme/app#42 ', 'github', 'acme/app#42'],
    ['linear:ENG-123', 'linear', 'ENG-123'],
    ['local:demo', 'local', 'demo'],
    ['local:a:b', 'local', 'a:b'],
  ])('%j → %s + %j', (ref, platform, rest) => {
    expect(splitThreadRef(ref, known)).toEqual({ platform, rest });
  });

  it.each([
    'teams:19:abc@thread.v2',
    'discord:123',
    'demo',
    ':demo',
    'https://acme.slack.com/archives/C0123/p1700000000000100',
  ])('rejects the unknown prefix of %j', (ref) => {
    const err = badInput(() => splitThreadRef(ref, known));
    expect(err.code).toBe('unknown_thread_platform');
    expect(err.status).toBe(400);
    expect(err.details).toEqual({ field: 'thread' });
    expect(err.message).toContain('local:, slack:, github:, linear:');
  });

  it.each(['', '   ', 42, null, undefined, { platform: 'slack' }])('rejects %j as invalid_thread_ref', (ref) => {
    const err = badInput(() => splitThreadRef(ref, known));
    expect(err.code).toBe('invalid_thread_ref');
    expect(err.details).toEqual({ field: 'thread' });
  });

  it('keeps a long bad ref out of the message', () => {
    const ref = `teams:${'x'.repeat(500)}`;
    expect(badInput(() => splitThreadRef(ref, known)).message.length).toBeLessThan(200);
  });
});

describe('invalidThreadRef', () => {
  it('names the ref and an example of a good one', () => {
    const err = invalidThreadRef('slack:nope', 'slack:C0123/1700000000.000100');
    expect(err.code).toBe('invalid_thread_ref');
    expect(err.message).toContain('"slack:nope"');
    expect(err.message).toContain('slack:C0123/1700000000.000100');
  });
});

describe('parseLocalThread', () => {
  it.each([
    ['local:demo', 'demo'],
    ['LOCAL:demo', 'demo'],
    ['  local:demo  ', 'demo'],
    ['local:a', 'a'],
    ['local:Team-Standup_2025.03', 'Team-Standup_2025.03'],
    ['local:9lives', '9lives'],
    [`local:${'a'.repeat(64)}`, 'a'.repeat(64)],
  ])('%j is the local thread %j', (ref, name) => {
    expect(parseLocalThread(ref)).toEqual({ platform: 'local', ref: `local:${name}`, name });
  });

  it.each([
    'local:',
    'local: ',
    `local:${'a'.repeat(65)}`,
    'local:-demo',
    'local:.demo',
    'local:_demo',
    'local:my demo',
    'local:a/b',
    'local:a:b',
    'local:café',
    'local:<script>',
    'slack:demo',
    'demo',
  ])('rejects %j', (ref) => {
    const err = badInput(() => parseLocalThread(ref));
    expect(err.code).toBe('invalid_thread_ref');
    expect(err.message).toContain('local:demo');
  });
});
