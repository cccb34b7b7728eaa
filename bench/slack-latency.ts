import type { FakeSlack } from '../test/fakes/slack/fake-slack-api.js';
import { postSignedEvent } from '../test/fakes/slack/slack-signing.js';
import { threadReplyEvent } from '../test/fixtures/slack/slack-fixtures.js';
import type { BenchAgent } from './bench-agent.js';
import type { Players, ReadyHandoff } from './human.js';
import type { InprocBridge } from './inproc-bridge.js';
import { measureResumeLatency, type LatencyResult } from './resume-latency.js';

/**
 * Slack figure 2: reply → agent resumed through the Slack adapter. Like the local figure, one
 * handoff at a time, but each lives in a Slack thread (on the fake Web API), its approver is
 * resolved through users.list, its link goes out with chat.postEphemeral, and the human's
 * paste arrives as a signed Events API delivery to POST /slack/events. The clock runs from the
 * bridge's 200 to the moment the agent job is past requireLogin().
 */
const channel = 'C0BENCH0002';

export async function measureSlackLatency(options: {
  bridge: InprocBridge;
  slack: FakeSlack;
  signingSecret: string;
  agent: BenchAgent;
  serviceUrl: string;
  n: number;
  warmup: number;
}): Promise<LatencyResult> {
  const { bridge, slack } = options;
  const players: Players = {
    agent: options.agent,
    client: bridge.client,
    bridgeUrl: bridge.url,
    serviceUrl: options.serviceUrl,
    threadFor: () => `slack:${channel}/${slack.postAsUser(channel, 'U0ALICE001', 'nightly report').ts}`,
  };
  const send = async (_players: Players, ready: ReadyHandoff): Promise<number> => {
    const threadTs = ready.thread.split('/')[1]!;
    const message = slack.postAsUser(channel, 'U0ALICE001', ready.code, threadTs);
    const body = threadReplyEvent({
      channel,
      threadTs,
      user: 'U0ALICE001',
      text: `Here is the finish code: \`${ready.code}\``,
      ts: message.ts,
    });
    const res = await postSignedEvent(`${bridge.url}/slack/events`, options.signingSecret, body);
    const at = Date.now();
    if (res.status !== 200) throw new Error(`the Slack event for ${ready.tag} was answered ${res.status}`);
    return at;
  };
  return measureResumeLatency(players, options.n, options.warmup, 100, send);
}
