import { backgroundPollDelay, personActiveWindowMs } from '../src/core/handoff.js';
import { loadConfig } from '../src/core/config.js';
import { benchPart } from './bench-part.js';
import { withFlow } from './flow-parts.js';
import { openLogin } from './human.js';
import { approveLogin } from './sandbox-server.js';
import { round, summarise, type Summary } from './stats.js';

/**
 * Approve-only (issue #16 item 3): the person approves on the service's page and answers
 * nothing in the thread; the bridge's background poll finds the approval. From the moment the
 * service has the approval to the agent's job running again, p50/p95, with the bridge's
 * default poll interval (HANDOFF_POLL_INTERVAL_MS). People act a moment after the link shows
 * (0–3 s here, drawn at random), in lanes so several wait at once. The cost is the number of
 * polls one login costs in an hour nobody answers, from the driver's own schedule.
 */
interface ApproveOnlyResult {
  readonly ms: Summary;
  readonly intervalMs: number;
  readonly pollsPerHandoffHour: number;
}

const aaCliPollsPerHour = 3_600_000 / 2_000;

/** Polls the driver makes for one login over `hourMs` when nobody answers. */
function pollsPerHour(intervalMs: number, maxMs: number, hourMs = 3_600_000): number {
  const record = { createdAt: 0, activeUntil: personActiveWindowMs };
  let polls = 0;
  for (let t = intervalMs; t < hourMs; t += backgroundPollDelay(record, intervalMs, maxMs, t)) polls += 1;
  return polls;
}

export const approveOnlyPart = benchPart<ApproveOnlyResult>({
  name: 'approve-only',
  title: 'approve-only: approved at the service, nothing said in the thread → agent resumed',
  flags: { 'approve-only-n': '40', 'approve-only-lanes': '8' },
  async run(ctx) {
    const defaults = loadConfig({ NODE_ENV: 'test' }, []).handoff;
    const intervalMs = defaults.pollIntervalMs;
    const n = ctx.int('approve-only-n');
    const samples: number[] = [];
    await withFlow(
      ctx,
      'approve-only',
      async (players) => {
        let next = 0;
        const lane = async () => {
          while (next < n) {
            next += 1;
            const waiting = await openLogin(players, 'only', []);
            await new Promise((r) => setTimeout(r, Math.random() * 3_000));
            await approveLogin(waiting.approvalUrl);
            const approvedAt = Date.now();
            samples.push((await players.agent.resumed(waiting.tag)) - approvedAt);
            if (samples.length % 10 === 0) ctx.progress(`approve-only: ${samples.length}/${n} resumed`);
          }
        };
        await Promise.all(Array.from({ length: ctx.int('approve-only-lanes') }, lane));
      },
      false,
      // The bench's other parts turn the background poll off; here it is what is measured.
      { HANDOFF_POLL_INTERVAL_MS: String(intervalMs) },
    );
    return {
      ms: summarise(samples),
      intervalMs,
      pollsPerHandoffHour: pollsPerHour(intervalMs, defaults.pollMaxIntervalMs),
    };
  },
  checks(r) {
    return [
      {
        figure: `approve-only → agent resumed, p50 (n=${r.ms.count}, poll every ${r.intervalMs} ms)`,
        measured: `${round(r.ms.p50)} ms`,
        target: '≤ 2500 ms',
        pass: r.ms.p50 <= 2_500,
      },
      {
        figure: '  same, p95 / max',
        measured: `${round(r.ms.p95)} / ${round(r.ms.max)} ms`,
        target: '',
        pass: undefined,
      },
      {
        figure: 'polls per login in an hour nobody answers',
        measured: String(r.pollsPerHandoffHour),
        target: `≤ ${aaCliPollsPerHour} (the AA CLI at 2 s)`,
        pass: r.pollsPerHandoffHour <= aaCliPollsPerHour,
      },
    ];
  },
});
