import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from '../../src/store/redis.js';
import { requestIn } from '../helpers/agent.js';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { connectTestRedis } from '../helpers/redis.js';
import { approveOnSandbox } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * How often a completion and a retrieval read the credential's record (`HGETALL` of
 * `{creds}:cred:<id>`, seen with Redis MONITOR): the claim that mints the credential id does
 * not look for a credential stored under it (none can be), and a retrieval reads the record
 * once, for its checks and the lifetime check alike. The isolation between agents is unchanged:
 * another agent's key gets the 404 of a handoff that does not exist.
 */
describe('credential reads per completion and per retrieval (real Redis, MONITOR)', () => {
  let bridge: TestBridge;
  let owner: TestAgent;
  let other: TestAgent;
  let monitor: Redis;
  /** Every command on one of this bridge's credential records: [command, credential id]. */
  const seen: [string, string][] = [];

  beforeAll(async () => {
    bridge = await startTestBridge('cred-reads');
    owner = await createTestAgent(bridge, 'reads-owner');
    other = await createTestAgent(bridge, 'reads-other');
    monitor = await connectTestRedis().monitor();
    const marker = `${bridge.prefix}:{creds}:cred:`;
    monitor.on('monitor', (_time: string, args: string[]) => {
      const key = args[1];
      if (typeof key === 'string' && key.startsWith(marker))
        seen.push([String(args[0]).toLowerCase(), key.slice(marker.length)]);
    });
  });
  afterAll(async () => {
    monitor.disconnect();
    await bridge.close();
  });

  const reads = (credentialId: string) => seen.filter(([cmd, id]) => cmd === 'hgetall' && id === credentialId).length;
  /** Lets MONITOR's lines of what just ran arrive. */
  const settle = () => new Promise((r) => setTimeout(r, 200));

  it('a completion reads no credential record; a retrieval reads it once; another agent gets the 404 of a missing handoff', async () => {
    const thread = freshThread('reads');
    const created = await owner.api.createHandoff({ service: `${bridge.url}/sandbox`, thread, approvers: ['alice'] });
    const request = await requestIn(bridge, thread);
    await bridge.reply(thread, 'alice', await approveOnSandbox(request.url));
    // Watched through the store, not the API: the API's view reads the credential for its scopes.
    const record = await waitFor('the login to complete', async () => {
      const r = await bridge.bridge.engine.store.get(created.id);
      return r?.status === 'completed' ? r : undefined;
    });
    const credentialId = record.credentialId!;
    await settle();
    expect(seen.some(([cmd, id]) => cmd === 'hset' && id === credentialId)).toBe(true); // MONITOR sees it
    expect(reads(credentialId)).toBe(0);

    const retrieved = await owner.api.retrieveCredential(created.id);
    expect(retrieved.credentialId).toBe(credentialId);
    await settle();
    expect(reads(credentialId)).toBe(1);

    const before = reads(credentialId);
    const stolen = await other.call('POST', `/v1/handoffs/${created.id}/credential`);
    const missing = await other.call('POST', '/v1/handoffs/hf_000000000000000000000000/credential');
    expect(stolen.status).toBe(404);
    expect(stolen.body.error.code).toBe(missing.body.error.code);
    expect(stolen.body.error.message).toBe(
      missing.body.error.message.replace('hf_000000000000000000000000', created.id),
    );
    expect(JSON.stringify(stolen.body)).not.toContain(retrieved.accessToken);
    await settle();
    expect(reads(credentialId)).toBe(before); // refused on the handoff, before its credential
  });
});
