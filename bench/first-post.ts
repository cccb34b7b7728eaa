import { randomBytes } from 'node:crypto';
import { startFakeLinear } from '../test/fakes/linear/fake-linear-server.js';
import { startInprocBridge } from './inproc-bridge.js';
import { summarise, type Summary } from './stats.js';

/**
 * Issue #16 item 9: how long after `POST /v1/handoffs` the approval request is visible in a
 * Linear issue (the comment exists in the fake Linear API). Each handoff on its own, in an
 * issue of its own; the first one on a fresh bridge is reported apart (cold: the SDK's first
 * request, the bot's own id, the people directory).
 */
export interface FirstPostResult {
  readonly firstMs: number;
  readonly laterMs: Summary;
  /** Linear API requests per approval post after the first (by top-level field). */
  readonly requestsPerPost: Record<string, number>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function measureLinearFirstPost(options: {
  redisUrl: string;
  prefix: string;
  logFile: string;
  serviceUrl: string;
  n: number;
}): Promise<FirstPostResult> {
  const apiKey = `lin_api_${randomBytes(20).toString('hex')}`;
  const fake = await startFakeLinear({ auth: apiKey });
  const alice = fake.store.addUser({ name: 'Alice Example', displayName: 'alice' });
  const bob = fake.store.addUser({ name: 'Bob Builder', displayName: 'bob' });
  const bridge = await startInprocBridge({
    prefix: options.prefix,
    redisUrl: options.redisUrl,
    logFile: options.logFile,
    env: {
      LINEAR_API_KEY: apiKey,
      LINEAR_API_URL: fake.url,
      LINEAR_WEBHOOK_SECRET: `lin_wh_${randomBytes(20).toString('hex')}`,
      LINEAR_POLL: 'off',
      HANDOFF_ALLOWED_SERVICES: `http://127.0.0.1:*`,
    },
  });
  const once = async (i: number): Promise<number> => {
    const issue = fake.store.addIssue({ identifier: `BEN-${i + 1}`, assigneeId: alice.id, creatorId: bob.id });
    const started = performance.now();
    const created = await bridge.client.createHandoff({
      service: options.serviceUrl,
      thread: `linear:${issue.identifier}`,
      approvers: ['alice'],
      agent: { id: 'bench-linear' },
    });
    while (!fake.store.commentsOf(issue.id).some((c) => c.userId === fake.viewer.id)) {
      if (performance.now() - started > 30_000) throw new Error('no Linear comment after 30 s');
      await sleep(2);
    }
    const ms = performance.now() - started;
    await bridge.client.cancelHandoff(created.id);
    return ms;
  };
  try {
    const firstMs = await once(0);
    await sleep(500); // the cancel notice of the first is posted before the next is timed
    const before = fake.requests.length;
    const later: number[] = [];
    for (let i = 1; i <= options.n; i++) {
      later.push(await once(i));
      await sleep(200);
    }
    const requestsPerPost: Record<string, number> = {};
    for (const r of fake.requests.slice(before))
      requestsPerPost[r.field] = (requestsPerPost[r.field] ?? 0) + 1 / options.n;
    return { firstMs, laterMs: summarise(later), requestsPerPost };
  } finally {
    await bridge.close();
    await fake.close();
  }
}
