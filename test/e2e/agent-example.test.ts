import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalMessage } from '../../adapters/local/local-platform.js';
import {
  freePort,
  handoffBin,
  spawnLogged,
  startAgentWorker,
  stopAllProcesses,
  waitForHealth,
} from '../helpers/processes.js';
import { redisAnswers } from '../helpers/redis.js';
import { approveOnSandbox } from '../helpers/sandbox-server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `npm start`, then the example agent worker, and nothing else: no REDIS_URL and no key for
 * either. The bridge starts its private Redis; the agent starts another one of its own (it is
 * never told the bridge's), and reaches the bridge over HTTP with the development operator
 * token. A person approves and answers in the thread; the agent prints its one JSON line.
 */
describe('npm start and examples/agent-worker.ts: two commands', () => {
  let dataDir = '';
  afterAll(async () => {
    await stopAllProcesses();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('the agent keeps its queue on a Redis of its own and resumes with a working credential', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'handoff-example-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const common = { PATH: process.env.PATH, HANDOFF_DATA_DIR: dataDir };
    const bridge = spawnLogged('example-serve', [handoffBin, 'serve', '--dev'], {
      ...common,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      HANDOFF_PREFIX: 'example-test',
    });
    await waitForHealth(url, bridge);
    await new Promise((r) => setTimeout(r, 200)); // the banner follows the listen
    expect(bridge.stdout()).toContain(
      `HANDOFF_URL=${url} node --import tsx examples/agent-worker.ts --service ${url}/sandbox --thread local:demo`,
    );

    const agent = startAgentWorker(
      'example',
      ['--service', `${url}/sandbox`, '--thread', 'local:example', '--approver', 'alice'],
      { ...common, HANDOFF_URL: url },
    );
    const messages = async () =>
      ((await (await fetch(`${url}/v1/threads/local/example/messages`)).json()) as { messages: LocalMessage[] })
        .messages;
    const request = await waitFor(
      'the approval request',
      async () => {
        if (agent.exit()) throw new Error(`the agent exited early:\n${agent.describe()}`);
        return (await messages()).find((m) => m.kind === 'bot' && /\/sandbox\/authorize\//.test(m.text));
      },
      30_000,
    );
    // Two redis-servers: the bridge's and the agent's.
    const bridgeRedisPort = Number((await readFile(join(dataDir, 'redis', 'port'), 'utf8')).trim());
    const agentRedisPort = Number((await readFile(join(dataDir, 'agent', 'redis', 'port'), 'utf8')).trim());
    expect(agentRedisPort).not.toBe(bridgeRedisPort);
    expect(await redisAnswers(agentRedisPort)).toBe(true);

    const code = await approveOnSandbox(
      /https?:\/\/\S+\/sandbox\/authorize\/\S+/.exec(request.text)![0],
      'alice@example.com',
    );
    const reply = await fetch(`${url}/v1/threads/local/example/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ author: 'alice', text: code }),
    });
    expect(reply.status).toBe(201);

    const { code: exitCode } = await agent.waitForExit(45_000);
    expect(exitCode, agent.describe()).toBe(0);
    const lines = agent.stdout().trim().split('\n');
    expect(lines, agent.describe()).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      resumed: true,
      status: 200,
      me: { account: { email: 'alice@example.com' }, agent_id: 'example-agent' },
    });
    expect(agent.stderr()).toContain('No HANDOFF_AGENT_KEY: using the operator token, acting for agent example-agent');
    expect(agent.stderr()).toContain("No REDIS_URL: the agent's queue is on a private redis-server");
    expect(await redisAnswers(agentRedisPort)).toBe(false); // the agent stopped the Redis it started

    // The README's way: an agent of its own (created here through the API, so its key reaches
    // no log file), its key exported, the same command without --agent-id (the key names it).
    const adminToken = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim();
    const created = await fetch(`${url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'demo-agent', threads: ['local:*'] }),
    });
    expect(created.status).toBe(201);
    const agentKey = ((await created.json()) as { apiKey: string }).apiKey;
    const keyed = startAgentWorker(
      'example-keyed',
      ['--service', `${url}/sandbox`, '--thread', 'local:example-keyed'],
      {
        ...common,
        HANDOFF_URL: url,
        HANDOFF_AGENT_KEY: agentKey,
      },
    );
    const keyedMessages = async () =>
      ((await (await fetch(`${url}/v1/threads/local/example-keyed/messages`)).json()) as { messages: LocalMessage[] })
        .messages;
    const keyedRequest = await waitFor(
      "the keyed agent's approval request",
      async () => {
        if (keyed.exit()) throw new Error(`the agent exited early:\n${keyed.describe()}`);
        return (await keyedMessages()).find((m) => m.kind === 'bot' && /\/sandbox\/authorize\//.test(m.text));
      },
      30_000,
    );
    expect(keyedRequest.text).toContain('Agent demo-agent asks you to log in');
    const keyedCode = await approveOnSandbox(/https?:\/\/\S+\/sandbox\/authorize\/\S+/.exec(keyedRequest.text)![0]);
    await fetch(`${url}/v1/threads/local/example-keyed/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ author: 'alice', text: keyedCode }),
    });
    expect((await keyed.waitForExit(45_000)).code, keyed.describe()).toBe(0);
    expect(JSON.parse(keyed.stdout().trim())).toMatchObject({
      resumed: true,
      status: 200,
    });
    expect(keyed.stderr()).not.toContain('No HANDOFF_AGENT_KEY');

    bridge.child.kill('SIGTERM');
    expect((await bridge.waitForExit(15_000)).code).toBe(0);
  });
});
