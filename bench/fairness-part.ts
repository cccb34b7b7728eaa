import { join } from 'node:path';
import { benchPart } from './bench-part.js';
import { measureFairness } from './fairness.js';
import { deletePrefix } from './redis-tools.js';
import { round } from './stats.js';

/** Another agent's start may take at most this much longer during a flood at a hanging service, ms (issue #10). */
const fairnessBoundMs = 1_000;

export const fairnessPart = benchPart({
  name: 'fairness',
  title: 'another agent’s start while one agent floods a hanging service',
  flags: { flood: '40', 'fair-n': '10' },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-fair`);
    try {
      return await measureFairness({
        redis: ctx.redis,
        redisUrl: ctx.redisUrl,
        prefix,
        logFile: join(ctx.logDir, `${prefix}.log`),
        serviceUrl: ctx.serviceUrl,
        flood: ctx.int('flood'),
        samples: ctx.int('fair-n'),
      });
    } finally {
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks: ({ flood, usualMs, duringFloodMs, hangingConnections }) => [
    {
      figure: `bystander's start → awaiting_human, usual, p50 / max (n=${usualMs.count})`,
      measured: `${round(usualMs.p50)} / ${round(usualMs.max)} ms`,
      target: '',
      pass: undefined,
    },
    {
      figure: `  with ${flood} handoffs of another agent hanging, p50 / max`,
      measured: `${round(duringFloodMs.p50)} / ${round(duringFloodMs.max)} ms`,
      target: `max − usual p50 < ${fairnessBoundMs} ms`,
      pass: duringFloodMs.max - usualMs.p50 < fairnessBoundMs,
    },
    {
      figure: '  connections the hanging service accepted',
      measured: String(hangingConnections),
      target: '≤ 8',
      pass: hangingConnections <= 8,
    },
  ],
});
