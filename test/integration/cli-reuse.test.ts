import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/client/cli.js';
import type { Io } from '../../src/client/cli-common.js';
import { completedLogin, createTestAgent, type TestAgent } from '../helpers/agents.js';
import { botTexts } from '../helpers/agent.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/** `handoff login --reuse agent|thread` (issue #14): a grant answers at once; the default asks. */
describe('handoff login --reuse', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  let granted: { handoffId: string; credentialId: string; thread: string };
  beforeAll(async () => {
    bridge = await startTestBridge('cli-reuse');
    agent = await createTestAgent(bridge, 'cli-reuser');
    granted = await completedLogin(bridge, agent);
  });
  afterAll(async () => bridge.close());

  const run = (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false };
    const env = { HANDOFF_URL: bridge.url, HANDOFF_AGENT_KEY: agent.key };
    return { done: runCli(['login', '--service', `${bridge.url}/sandbox`, ...args], env, io), out, err };
  };

  it('--reuse agent: exits 0 at once with the grant, prints it as JSON, posts nothing', async () => {
    const thread = freshThread('cli');
    const cli = run(['--thread', thread, '--reuse', 'agent', '--json']);
    expect(await cli.done).toBe(0);
    const { handoff } = JSON.parse(cli.out.join('\n'));
    expect(handoff).toMatchObject({ status: 'completed', reused: true, credential: { id: granted.credentialId } });
    expect(await botTexts(bridge, thread)).toEqual([]);
  });

  it('--reuse thread in another thread, and no --reuse at all, ask a person', async () => {
    for (const extra of [['--reuse', 'thread'], []]) {
      const thread = freshThread('cli-ask');
      const cli = run(['--thread', thread, '--timeout', '2s', '--json', ...extra]);
      expect(await cli.done).toBe(3); // expired: nobody answered
      expect(JSON.parse(cli.out.join('\n')).handoff).toMatchObject({ status: 'expired', reused: false });
      expect((await botTexts(bridge, thread)).some((t) => /^Approve here: /m.test(t))).toBe(true);
    }
  });

  it('--reuse with another value is a usage error naming the choices', async () => {
    const cli = run(['--thread', freshThread('cli-bad'), '--reuse', 'always']);
    expect(await cli.done).toBe(2);
    expect(cli.err.join('\n')).toContain('agent, thread, never');
  });
});
