import { join } from 'node:path';
import { benchPart } from './bench-part.js';
import { startInprocBridge } from './inproc-bridge.js';
import { deletePrefix, prefixMemory } from './redis-tools.js';
import { round, summarise, type Summary } from './stats.js';

/**
 * Approvals (issue #13): a reply → the agent's feed long poll answers with the decision
 * (what wakes a parked requireApproval job), p50/p99; and Redis bytes per open approval.
 */
interface ApprovalResult {
  readonly resume: Summary;
  readonly open: number;
  readonly bytesPerApproval: number;
  readonly bytesWithoutLocalThreads: number;
}

const action = {
  title: 'Restart the payments service in eu-west-1',
  risk: 'medium' as const,
  details: { service: 'payments', region: 'eu-west-1', instances: 12 },
  link: 'https://deploy.example.com/runs/12345',
};

export const approvalPart = benchPart<ApprovalResult>({
  name: 'approvals',
  title: 'approval handoffs: reply → resumed, and Redis bytes per open approval',
  flags: { 'approval-samples': '200', approvals: '10000' },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-appr`);
    const bridge = await startInprocBridge({
      prefix,
      redisUrl: ctx.redisUrl,
      logFile: join(ctx.logDir, `${prefix}-bridge.log`),
    });
    try {
      const agent = { id: 'bench-approver' };
      const waitPosted = async (id: string) => {
        for (let view = await bridge.client.getApproval(id); view.status === 'pending';)
          view = await bridge.client.getApproval(id, { waitMs: 5_000, ifStatus: 'pending' });
      };
      // Latency: one approval at a time; the feed long poll is armed before the reply.
      let cursor = (await bridge.client.events({ agent: agent.id })).cursor;
      const samples: number[] = [];
      const n = ctx.int('approval-samples');
      for (let i = 0; i < n; i++) {
        const thread = `local:bench-lat-${i}`;
        const { id } = await bridge.client.createApproval({ thread, agent, action });
        await waitPosted(id);
        const polling = bridge.client.events({ agent: agent.id, after: cursor, waitMs: 10_000 });
        await new Promise((r) => setTimeout(r, 2));
        const started = performance.now();
        await bridge.client.replyLocal(thread.slice(6), 'alice', 'approve');
        let page = await polling;
        while (!page.events.some((e) => e.handoffId === id))
          page = await bridge.client.events({ agent: agent.id, after: page.cursor, waitMs: 10_000 });
        samples.push(performance.now() - started);
        cursor = page.cursor;
        if ((i + 1) % 50 === 0) ctx.progress(`approvals: ${i + 1}/${n} decided`);
      }
      // Memory: open approvals parked and waiting, each in its own local thread.
      const before = await prefixMemory(ctx.redis, prefix);
      const open = ctx.int('approvals');
      const ids: string[] = [];
      for (let i = 0; i < open; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, open - i) }, (_, j) =>
            bridge.client.createApproval({
              thread: `local:bench-open-${i + j}`,
              agent,
              action,
              approvers: ['alice', 'bob'],
              expiresInMs: 3_600_000,
            }),
          ),
        );
        ids.push(...batch.map((b) => b.id));
        if ((i + 50) % 2_000 === 0) ctx.progress(`approvals: ${i + 50}/${open} open`);
      }
      for (const id of ids) await waitPosted(id);
      const after = await prefixMemory(ctx.redis, prefix);
      const local = (m: typeof after) =>
        Object.entries(m.byKind)
          .filter(([kind]) => kind.startsWith('local'))
          .reduce((sum, [, v]) => sum + v.bytes, 0);
      const bytes = after.bytes - before.bytes;
      return {
        resume: summarise(samples),
        open,
        bytesPerApproval: bytes / open,
        bytesWithoutLocalThreads: (bytes - (local(after) - local(before))) / open,
      };
    } finally {
      await bridge.close();
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks(r) {
    return [
      {
        figure: `approval reply → feed wakes the agent, p50 (n=${r.resume.count})`,
        measured: `${round(r.resume.p50)} ms`,
        target: '≤ 15 ms',
        pass: r.resume.p50 <= 15,
      },
      {
        figure: '  same, p99',
        measured: `${round(r.resume.p99)} ms (min ${round(r.resume.min)}, max ${round(r.resume.max)})`,
        target: '≤ 60 ms',
        pass: r.resume.p99 <= 60,
      },
      {
        figure: `Redis bytes per open approval (MEMORY USAGE, n=${r.open})`,
        measured: `${Math.round(r.bytesPerApproval)} B`,
        target: '≤ 3072 B',
        pass: r.bytesPerApproval <= 3072,
      },
      {
        figure: '  same, without local-thread message lists',
        measured: `${Math.round(r.bytesWithoutLocalThreads)} B`,
        target: '',
        pass: undefined,
      },
    ];
  },
});
