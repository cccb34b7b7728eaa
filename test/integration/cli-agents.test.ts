import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashAgentKey, isAgentKey } from '../../src/core/agent-keys.js';
import { runCli } from '../../src/client/cli.js';
import type { Io } from '../../src/client/cli-common.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * `handoff agents …` run in-process against a real bridge over HTTP: what it prints, to which
 * stream, and its exit codes (0 done, 1 error, 2 usage).
 */
function capture(input = ''): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => stdout.push(t),
    err: (t) => stderr.push(t),
    interactive: false,
    readInput: async () => input,
  };
}

describe('handoff agents (CLI)', () => {
  let bridge: TestBridge;
  let env: Record<string, string>;
  beforeAll(async () => {
    bridge = await startTestBridge('cli-agents');
    env = { HANDOFF_URL: bridge.url, HANDOFF_API_TOKEN: bridge.apiToken };
  });
  afterAll(async () => bridge.close());

  const run = async (args: string[], extraEnv: Record<string, string> = {}, input?: string) => {
    const io = capture(input);
    const code = await runCli(args, { ...env, ...extraEnv }, io);
    return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
  };

  it('add prints the key once on stdout (--key-only: nothing else), and the agent can use it at once', async () => {
    const added = await run([
      'agents',
      'add',
      'cli-bot',
      '--thread',
      'local:cli-*',
      '--service',
      new URL(bridge.url).origin,
      '--max-open',
      '3',
      '--key-only',
    ]);
    expect(added.code).toBe(0);
    expect(isAgentKey(added.out)).toBe(true);
    // The agent's commands use HANDOFF_AGENT_KEY, and the agent's id comes from it.
    const thread = freshThread('cli');
    const login = await run(['status', '--json'], { HANDOFF_AGENT_KEY: added.out });
    expect(login).toMatchObject({ code: 0 });
    expect(JSON.parse(login.out)).toEqual({ handoffs: [] });
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      agent: { id: 'cli-bot' },
    });
    expect(
      JSON.parse((await run(['status', '--json'], { HANDOFF_AGENT_KEY: added.out })).out).handoffs.map(
        (h: { id: string }) => h.id,
      ),
    ).toEqual([created.id]);
  });

  it('login with HANDOFF_AGENT_KEY asks as that agent without --agent-id, and a policy refusal exits 1', async () => {
    const key = (await run(['agents', 'add', 'cli-login', '--thread', 'local:cli-*', '--key-only'])).out;
    const thread = freshThread('cli');
    const login = await run(
      ['login', '--service', `${bridge.url}/sandbox`, '--thread', thread, '--timeout', '1s', '--json'],
      { HANDOFF_AGENT_KEY: key },
    );
    expect(login.code).toBe(3); // expired: nobody answered
    expect(JSON.parse(login.out).handoff).toMatchObject({ status: 'expired', agent: { id: 'cli-login' } });
    const refused = await run(
      ['login', '--service', `${bridge.url}/sandbox`, '--thread', 'local:elsewhere', '--json'],
      { HANDOFF_AGENT_KEY: key },
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('[thread_not_allowed]');
  });

  it('add, show and list describe the policy; --json prints one object', async () => {
    const added = await run(['agents', 'add', 'json-bot', '--approver', 'alice', '--json']);
    expect(added.code).toBe(0);
    const body = JSON.parse(added.out) as { agent: { id: string; approvers: string[] }; apiKey: string };
    expect(body.agent).toMatchObject({ id: 'json-bot', approvers: ['alice'], managedBy: 'api' });
    expect(isAgentKey(body.apiKey)).toBe(true);
    const shown = await run(['agents', 'show', 'json-bot']);
    expect(shown.out).toContain('approvers alice');
    expect(shown.out).toContain('limits    20 open, 60 a minute (the bridge defaults)');
    expect(shown.out).not.toContain('hak_');
    const listed = JSON.parse((await run(['agents', 'list', '--json'])).out) as { agents: Array<{ id: string }> };
    expect(listed.agents.map((a) => a.id)).toEqual(expect.arrayContaining(['cli-bot', 'json-bot']));
  });

  it('rotate prints a new key and the old one stops working; remove ends the agent', async () => {
    const old = (await run(['agents', 'add', 'turner', '--key-only'])).out;
    const rotated = await run(['agents', 'rotate', 'turner', '--key-only']);
    expect(rotated.code).toBe(0);
    expect(rotated.out).not.toBe(old);
    const refused = await run(['status'], { HANDOFF_AGENT_KEY: old });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('[unauthorized]');
    expect((await run(['status'], { HANDOFF_AGENT_KEY: rotated.out })).code).toBe(0);
    const removed = await run(['agents', 'remove', 'turner']);
    expect(removed).toMatchObject({ code: 0 });
    expect(removed.out).toContain('Removed turner');
    expect((await run(['status'], { HANDOFF_AGENT_KEY: rotated.out })).code).toBe(1);
  });

  it('hash makes a key and its hash, or hashes a key from stdin, without a bridge', async () => {
    const made = await run(['agents', 'hash', '--json'], { HANDOFF_URL: 'http://127.0.0.1:9' });
    const { apiKey, keyHash } = JSON.parse(made.out) as { apiKey: string; keyHash: string };
    expect(keyHash).toBe(hashAgentKey(apiKey));
    const fromStdin = await run(['agents', 'hash', '--stdin'], {}, `${apiKey}\n`);
    expect(fromStdin).toMatchObject({ code: 0, out: keyHash });
    expect((await run(['agents', 'hash', '--stdin'], {}, 'not a key')).code).toBe(2);
  });

  it('answers usage mistakes with 2, the bridge’s refusals with 1, and never lets an agent key manage agents', async () => {
    expect((await run(['agents'])).code).toBe(2);
    expect((await run(['agents', 'add'])).code).toBe(2);
    expect((await run(['agents', 'add', 'x', '--max-open', 'many'])).code).toBe(2);
    expect((await run(['agents', 'add', 'x', '--json', '--key-only'])).code).toBe(2);
    expect((await run(['agents', 'add', 'Bad Id'])).code).toBe(2); // 400 from the bridge
    expect((await run(['agents', 'show', 'nobody'])).code).toBe(1); // 404
    expect((await run(['agents', 'add', 'cli-bot'])).code).toBe(1); // 409 agent_exists
    // HANDOFF_AGENT_KEY is for the agent's commands only: agents … always use the operator's token.
    const key = (await run(['agents', 'add', 'only-agent', '--key-only'])).out;
    expect((await run(['agents', 'list'], { HANDOFF_AGENT_KEY: key })).code).toBe(0);
    const asAgent = await run(['agents', 'list'], { HANDOFF_API_TOKEN: key });
    expect(asAgent.code).toBe(1);
    expect(asAgent.err).toContain('[admin_only]');
  });
});
