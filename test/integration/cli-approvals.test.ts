import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/client/cli.js';
import type { Io } from '../../src/client/cli-common.js';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/** `handoff request-approval` (issue #13) against a running bridge: exit codes per outcome. */
describe('handoff request-approval', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('cli-approvals');
    agent = await createTestAgent(bridge, 'cli-approver');
  });
  afterAll(async () => bridge.close());

  const run = (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false };
    const env = { HANDOFF_URL: bridge.url, HANDOFF_AGENT_KEY: agent.key };
    return { done: runCli(['request-approval', ...args], env, io), out, err };
  };
  const requestPosted = (thread: string) =>
    waitFor('the request', async () =>
      (await bridge.messages(thread)).find((m) => m.kind === 'bot' && m.text.startsWith('🛂')),
    );

  it('exits 0 when approved and prints who approved; the details are shown in the thread', async () => {
    const thread = freshThread('cli');
    const cli = run(['--thread', thread, '--title', 'Rotate keys', '--detail', 'env=prod', '--detail', 'count=3']);
    const message = await requestPosted(thread);
    expect(message.text).toContain('env: prod');
    await bridge.reply(thread, 'alice', 'approve');
    expect(await cli.done).toBe(0);
    expect(cli.out.join('\n')).toContain('Approved by alice');
  });

  it('exits 6 when denied, 3 when expired, 5 when cancelled', async () => {
    const t1 = freshThread('cli-d');
    const denied = run(['--thread', t1, '--title', 'Delete bucket']);
    await requestPosted(t1);
    await bridge.reply(t1, 'bob', 'deny no');
    expect(await denied.done).toBe(6);

    expect(await run(['--thread', freshThread('cli-e'), '--title', 'x', '--timeout', '1s']).done).toBe(3);

    const t3 = freshThread('cli-c');
    const cancelled = run(['--thread', t3, '--title', 'y', '--json']);
    await requestPosted(t3);
    const [open] = await agent.api.listHandoffs({ open: true, limit: 5 });
    await agent.api.cancelHandoff(open!.id);
    expect(await cancelled.done).toBe(5);
    expect(JSON.parse(cancelled.out[0]!).handoff.status).toBe('cancelled');
  });

  it('exits 2 for bad usage', async () => {
    expect(await run(['--title', 'x']).done).toBe(2);
    expect(await run(['--thread', 'local:a', '--title', 'x', '--detail', 'novalue']).done).toBe(2);
    expect(await run(['--thread', 'local:a', '--title', 'x', '--quorum', '0']).done).toBe(2);
  });
});
