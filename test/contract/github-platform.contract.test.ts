import { randomBytes } from 'node:crypto';
import { githubPlatform } from '../../adapters/github/index.js';
import { startFakeGithub } from '../fakes/github/fake-github-server.js';
import { deliverWebhook } from '../fakes/github/webhook-sender.js';
import { exampleRepo, issueCommentPayload } from '../fixtures/github/issue-comment.js';
import { describePlatformContract, type InboundDelivery } from './platform.contract.js';

/** GitHub through Octokit against the fake; webhooks signed as GitHub signs them. */
describePlatformContract('github', async () => {
  const fake = await startFakeGithub();
  const repo = exampleRepo.toLowerCase();
  fake.state.addRepo(exampleRepo, { private: true, issues: [7], collaborators: { alice: 'write', rita: 'read' } });
  const secret = `whsec-${randomBytes(16).toString('hex')}`;
  const payload = (d: InboundDelivery, action: 'created' | 'edited' = 'created') =>
    issueCommentPayload({ action, commentId: Number(d.messageId), issueNumber: 7, body: d.text, login: d.author.id });
  const send = async (url: string, body: unknown, deliveryId: string, signWith = secret) =>
    (await deliverWebhook(url, { event: 'issue_comment', payload: body, secret: signWith, deliveryId })).status;
  return {
    descriptor: githubPlatform,
    env: {
      GITHUB_TOKEN: fake.auth.addToken('handoff-bot'),
      GITHUB_API_URL: fake.url,
      GITHUB_WEBHOOK_SECRET: secret,
      GITHUB_POLLING: 'false',
    },
    invalidEnv: ['GITHUB_WEBHOOK_SECRET', 'short'],
    secretSample: `ghp_${'a1B2c3D4e5'.repeat(4)}`,
    thread: `github:${exampleRepo}#7`,
    approver: { id: 'alice' },
    // The issue's html_url as the API gives it (the fake's web host, as a GHES host would be its own).
    threadLink: () => `https://github.example/${exampleRepo}/issues/7`,
    stranger: { id: 'rita' },
    newMessage: async (author, text) => String(fake.state.addComment(repo, 7, author.id, text).id),
    deliver: (url, d) => send(url, payload(d), d.deliveryId),
    deliverEdit: (url, d) => send(url, payload(d, 'edited'), d.deliveryId),
    deliverEcho: async (url, posted) => {
      const comment = fake.state.thread(repo, 7).find((c) => String(c.id) === posted.id)!;
      const body = issueCommentPayload({
        commentId: comment.id,
        issueNumber: 7,
        body: comment.body,
        login: 'handoff-bot',
      });
      return send(url, body, `echo-${posted.id}`);
    },
    deliverForged: (url, d) => send(url, payload(d), d.deliveryId, 'whsec-not-the-right-one'),
    close: () => fake.close(),
  };
});
