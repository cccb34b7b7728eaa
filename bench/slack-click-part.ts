import { join } from 'node:path';
import { startFakeSlack } from '../test/fakes/slack/fake-slack-api.js';
import { newSigningSecret, postSignedInteraction } from '../test/fakes/slack/slack-signing.js';
import { approvalButtonClick } from '../test/fixtures/slack/slack-fixtures.js';
import { benchPart } from './bench-part.js';
import { startInprocBridge } from './inproc-bridge.js';
import { deletePrefix } from './redis-tools.js';
import { round, summarise, type Summary } from './stats.js';

/**
 * Approvals in Slack (issue #13): an Approve click → the agent's feed long poll answers with
 * the decision (what wakes a parked requireApproval job), p50/p99. Each approval lives in its
 * own thread on the fake Web API; the click is a signed `block_actions` POST to
 * /slack/interactivity, as Slack sends it. The clock runs from just before that POST.
 */
const channel = 'C0BENCHCLK1';
const alice = { id: 'U0ALICE001', name: 'alice', realName: 'Alice Example', email: 'alice@example.com' };

export const slackClickPart = benchPart<{ resume: Summary }>({
  name: 'slack-clicks',
  title: 'Slack Approve click → decision in the agent feed',
  flags: { 'slack-click-samples': '200' },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-slack-click`);
    const slack = await startFakeSlack();
    slack.addUser(alice);
    const signingSecret = newSigningSecret();
    const bridge = await startInprocBridge({
      prefix,
      redisUrl: ctx.redisUrl,
      logFile: join(ctx.logDir, `${prefix}-bridge.log`),
      env: {
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slack.url,
        SLACK_OUTBOUND_PER_SECOND: '50',
      },
    });
    try {
      const agent = { id: 'bench-slack-clicker' };
      const action = { title: 'Restart the payments service', risk: 'medium' as const };
      let cursor = (await bridge.client.events({ agent: agent.id })).cursor;
      const samples: number[] = [];
      const n = ctx.int('slack-click-samples');
      for (let i = 0; i < n; i++) {
        const threadTs = slack.postAsUser(channel, alice.id, 'deploy').ts;
        const { id } = await bridge.client.createApproval({ thread: `slack:${channel}/${threadTs}`, agent, action });
        let request = undefined as ReturnType<typeof slack.state.thread>[number] | undefined;
        for (let waited = 0; !request; waited += 5) {
          if (waited > 10_000) throw new Error(`the approval request ${id} was not posted`);
          await new Promise((r) => setTimeout(r, 5));
          request = slack.state
            .thread(channel, threadTs)
            .find((m) => m.botId && JSON.stringify(m.blocks ?? []).includes(`"value":"${id}"`));
        }
        const click = approvalButtonClick({
          action: 'approve',
          value: id,
          user: alice.id,
          username: alice.name,
          channel,
          threadTs,
          messageTs: request.ts,
        });
        const polling = bridge.client.events({ agent: agent.id, after: cursor, waitMs: 10_000 });
        await new Promise((r) => setTimeout(r, 2));
        const started = performance.now();
        const res = await postSignedInteraction(`${bridge.url}/slack/interactivity`, signingSecret, click);
        if (res.status !== 200) throw new Error(`the click on ${id} was answered ${res.status}`);
        let page = await polling;
        while (!page.events.some((e) => e.handoffId === id))
          page = await bridge.client.events({ agent: agent.id, after: page.cursor, waitMs: 10_000 });
        samples.push(performance.now() - started);
        cursor = page.cursor;
        if ((i + 1) % 50 === 0) ctx.progress(`slack clicks: ${i + 1}/${n} decided`);
      }
      return { resume: summarise(samples) };
    } finally {
      await bridge.close();
      await slack.close();
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks({ resume }) {
    return [
      {
        figure: `Slack Approve click → feed wakes the agent, p50 (n=${resume.count})`,
        measured: `${round(resume.p50)} ms`,
        target: '≤ 15 ms',
        pass: resume.p50 <= 15,
      },
      {
        figure: '  same, p99',
        measured: `${round(resume.p99)} ms (min ${round(resume.min)}, max ${round(resume.max)})`,
        target: '≤ 60 ms',
        pass: resume.p99 <= 60,
      },
    ];
  },
});
