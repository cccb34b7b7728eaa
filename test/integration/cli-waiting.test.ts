import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/client/cli.js';
import type { Io } from '../../src/client/cli-common.js';
import { escalationFlag } from '../../src/client/cli-waiting.js';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Waiting well from the CLI (issue #14): `--remind-*` and `--escalate` on `login` and
 * `request-approval`, and `handoff extend`, through the CLI's main function against a real
 * bridge (real Redis, real queues). Exit codes as the CLI documents them: 0 done, 1 error,
 * 2 usage, 3 expired, 4 failed, 5 cancelled.
 */
describe('handoff CLI: reminders, escalation and extend', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('cli-waiting', {
      env: { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_POLL_MAX_INTERVAL_MS: '600000' },
    });
    agent = await createTestAgent(bridge, 'cli-waiter');
  });
  afterAll(async () => bridge.close());

  const run = (args: string[], key = agent.key) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false };
    const env = { HANDOFF_URL: bridge.url, HANDOFF_AGENT_KEY: key };
    return { done: runCli(args, env, io), out, err };
  };
  const service = () => `${bridge.url}/sandbox`;
  /** The id the CLI printed on stderr once the request was made. */
  const createdId = (err: string[]) =>
    waitFor('the created line', () => err.map((l) => /(?:handoff|approval) (hf_[0-9a-f]+)/.exec(l)?.[1]).find(Boolean));
  const waitingPlan = {
    remind: { afterMs: 60_000, everyMs: 120_000, max: 2 },
    escalate: [
      { afterMs: 300_000, approvers: ['olga', 'pat'], thread: 'local:oncall' },
      { afterMs: 600_000, approvers: ['quinn@example.com'] },
    ],
  };
  const waitingFlags = [
    '--remind-after',
    '1m',
    '--remind-every',
    '120000',
    '--remind-max',
    '2',
    '--escalate',
    '5m=olga, pat@local:oncall',
    '--escalate',
    '10m=quinn@example.com',
  ];

  it.each([
    ['login', ['login', '--service', 'SERVICE'], 'login'],
    ['request-approval', ['request-approval', '--title', 'Drop the staging table'], 'approval'],
  ])(
    '%s: the flags become the request’s reminders and escalation; a cancel ends it with exit 5',
    async (_, command, kind) => {
      const args = [...command.map((a) => (a === 'SERVICE' ? service() : a)), '--thread', freshThread('cli-remind')];
      const cli = run([...args, '--approver', 'ann', '--timeout', '1h', ...waitingFlags]);
      const id = await createdId(cli.err);
      const record = await waitFor('the record', () => bridge.bridge.engine.store.get(id));
      expect(record.kind).toBe(kind);
      expect(record.remind).toMatchObject(waitingPlan.remind);
      expect(record.escalate).toEqual(waitingPlan.escalate);
      await agent.api.cancelHandoff(id);
      expect(await cli.done).toBe(5);
    },
  );

  it('refuses bad flag values with exit 2, naming the flag, and asks nobody', async () => {
    const before = (await agent.api.listHandoffs({ limit: 200 })).length;
    const cases: Array<[string[], RegExp]> = [
      [['--remind-after', 'soon'], /--remind-after "soon" is not a duration/],
      [['--remind-after', '10s'], /--remind-after "10s" is not a duration of at least 1 min/],
      [['--remind-after', '5m', '--remind-every', '1 week'], /--remind-every "1 week" is not a duration/],
      [['--remind-after', '5m', '--remind-max', '99'], /--remind-max "99" must be a whole number from 0 to 10/],
      [['--remind-after', '5m', '--remind-max', '1.5'], /--remind-max "1.5"/],
      [['--remind-every', '5m'], /--remind-every and --remind-max need --remind-after/],
      [['--escalate', '15m'], /--escalate "15m" must be AFTER=APPROVER/],
      [['--escalate', '=olga'], /--escalate "=olga" must be AFTER=APPROVER/],
      [['--escalate', '15m=olga,,pat'], /--escalate "15m=olga,,pat" must be/],
      [['--escalate', 'later=olga'], /--escalate "later" is not a duration/],
      [['--escalate', '15m=@local:oncall'], /--escalate "15m=@local:oncall" must be/],
      [['--escalate', '15m=olga,local:oncall'], /--escalate "15m=olga,local:oncall" must be/],
      [['--escalate', '1m=a', '--escalate', '2m=b', '--escalate', '3m=c', '--escalate', '4m=d'], /at most 3 steps/],
    ];
    for (const [flags, message] of cases) {
      for (const command of [
        ['login', '--service', service(), '--thread', freshThread('cli-bad')],
        ['request-approval', '--thread', freshThread('cli-bad'), '--title', 'x'],
      ]) {
        const cli = run([...command, ...flags]);
        expect(await cli.done, flags.join(' ')).toBe(2);
        expect(cli.err.join('\n')).toMatch(message);
      }
    }
    expect((await agent.api.listHandoffs({ limit: 200 })).length).toBe(before);
  });

  it('reads the thread of an escalation step only from a thread ref, so approvers’ emails stay whole', () => {
    expect(escalationFlag('15m=alice@example.com,bob@example.com@slack:C0ONCALL/1700000000.000100')).toEqual({
      afterMs: 900_000,
      approvers: ['alice@example.com', 'bob@example.com'],
      thread: 'slack:C0ONCALL/1700000000.000100',
    });
    expect(escalationFlag('90000=@olga')).toEqual({ afterMs: 90_000, approvers: ['@olga'] });
    expect(escalationFlag('2h=olga@github:acme/ops#12')).toEqual({
      afterMs: 7_200_000,
      approvers: ['olga'],
      thread: 'github:acme/ops#12',
    });
  });

  it('extend: more time (text and --json), the bridge’s refusals with their sentence and code, ended handoffs by their exit code', async () => {
    const created = await agent.api.createHandoff({
      service: service(),
      thread: freshThread('cli-extend'),
      approvers: ['ann'],
      expiresInMs: 120_000,
    });
    const id = created.id;
    await waitFor('awaiting_human', async () =>
      (await agent.api.getHandoff(id)).status === 'awaiting_human' ? true : undefined,
    );

    // The sandbox's own login link lasts 10 minutes: no extension goes past it.
    const json = run(['extend', id, '--expires-in', '5m', '--json']);
    expect(await json.done, json.err.join('\n')).toBe(0);
    const { handoff } = JSON.parse(json.out.join('\n'));
    expect(handoff.id).toBe(id);
    expect(Math.abs(handoff.expiresAt - (Date.now() + 300_000))).toBeLessThan(10_000);

    const text = run(['extend', id, '--expires-in', '8m']);
    expect(await text.done).toBe(0);
    expect(text.out.join('\n')).toMatch(
      new RegExp(`^Handoff ${id} now waits until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\(8 min from now\\)\\.$`),
    );

    const notLater = run(['extend', id, '--expires-in', '1m']);
    expect(await notLater.done).toBe(2);
    expect(notLater.err.join('\n')).toMatch(/expiresInMs must give more time.*\[extend_not_later\]/);
    const tooLong = run(['extend', id, '--expires-in', '400d']);
    expect(await tooLong.done).toBe(2);
    expect(tooLong.err.join('\n')).toMatch(/at most .* ms from now.*\[extend_beyond_(maximum|service)\]/);

    for (const [args, message] of [
      [['extend', id], /extend needs --expires-in/],
      [['extend', '--expires-in', '5m'], /extend needs one handoff id/],
      [['extend', id, 'hf_other', '--expires-in', '5m'], /extend needs one handoff id/],
      [['extend', id, '--expires-in', 'a while'], /--expires-in "a while" is not a duration/],
      [['extend', id, '--expires-in', '0'], /--expires-in "0" is not a duration/],
    ] as Array<[string[], RegExp]>) {
      const cli = run(args);
      expect(await cli.done, args.join(' ')).toBe(2);
      expect(cli.err.join('\n')).toMatch(message);
    }

    // Another agent's handoff is not there for it (404): an error, not a usage mistake.
    const other = await createTestAgent(bridge, 'cli-other-waiter');
    const foreign = run(['extend', id, '--expires-in', '30m'], other.key);
    expect(await foreign.done).toBe(1);
    expect(foreign.err.join('\n')).toMatch(/\[[a-z_]+\]/);

    await agent.api.cancelHandoff(id);
    const ended = run(['extend', id, '--expires-in', '30m']);
    expect(await ended.done).toBe(5);
    expect(ended.err.join('\n')).toMatch(/already ended \(cancelled\)\. \[handoff_finished\]/);
    expect((await agent.api.getHandoff(id)).status).toBe('cancelled');
  });
});
