import { describe, expect, it } from 'vitest';
import { commentIdOf, editMessageId, githubThreadRef, parseGithubThread } from '../../adapters/github/github-thread.js';
import { HandoffError } from '../../src/core/errors.js';

describe('GitHub thread refs', () => {
  it('parses issues and pull requests to a lower-case canonical ref', () => {
    expect(parseGithubThread('github:Octo-Org/Hello.World_2#42')).toEqual({
      platform: 'github',
      ref: 'github:octo-org/hello.world_2#42',
      owner: 'octo-org',
      repo: 'hello.world_2',
      number: 42,
    });
    expect(parseGithubThread('  GitHub:a/b#1 ').ref).toBe('github:a/b#1');
    expect(githubThreadRef('Codertocat', 'Hello-World', 7)).toBe('github:codertocat/hello-world#7');
  });

  it('rejects what GitHub would not name', () => {
    for (const bad of [
      'github:octo/app',
      'github:octo/app#0',
      'github:-octo/app#1',
      'github:octo-/app#1',
      'github:oc--to/app#1',
      `github:${'o'.repeat(40)}/app#1`,
      'github:octo/..#1',
      'github:octo/a b#1',
      'github:octo/app#12345678901',
      'slack:C1/1.2',
    ]) {
      expect(() => parseGithubThread(bad), bad).toThrow(HandoffError);
    }
  });

  it('keeps edit identities apart from the comment they change', () => {
    const id = editMessageId(1234, '2026-01-02T03:04:05Z');
    expect(id).toBe(`1234@${Date.parse('2026-01-02T03:04:05Z')}`);
    expect(commentIdOf(id)).toBe(1234);
    expect(commentIdOf('99')).toBe(99);
    expect(() => commentIdOf('local.abc')).toThrow(HandoffError);
  });
});
