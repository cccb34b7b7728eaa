import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handoffBin, repoRoot } from '../helpers/processes.js';

/**
 * bin/handoff.js (issue #16 item 8): `--version` answers from package.json before anything is
 * loaded, and HANDOFF_FROM_SOURCE=1 runs the TypeScript sources whether or not dist/ exists
 * (what every other test's child process does).
 */
describe('the handoff command', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [handoffBin, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('--version, -v and version print the package version and nothing else', () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v', 'version']) {
      const out = run([flag]);
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout).toBe(`${version}\n`);
      expect(out.stderr).toBe('');
    }
  });

  it('HANDOFF_FROM_SOURCE=1 runs the sources: usage, and a usage error for an unknown command', () => {
    const help = run(['help'], { HANDOFF_FROM_SOURCE: '1' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: handoff <command>');
    const unknown = run(['no-such-command'], { HANDOFF_FROM_SOURCE: '1' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "no-such-command"');
    // Never the "sources changed" notice: the sources were asked for.
    expect(unknown.stderr).not.toContain('since the last build');
  });
});
