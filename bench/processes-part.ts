import { benchPart, type BenchContext } from './bench-part.js';
import { runMultiProcess, type CommandCounts, type MultiProcessRun } from './multi-process.js';
import { round } from './stats.js';

/**
 * Issue #16 items 4 and 7: the bridge as separate server and worker processes, the load in a
 * process of its own (bench/multi-process.ts). Three runs: 2 servers with 1 worker and with 2
 * workers (`--procs-rate-n` handoffs each: completions/s and Redis commands per handoff), then
 * 2 servers and 2 workers over `--procs-n` handoffs with one worker SIGKILLed half-way.
 */
export interface ProcessesResult {
  /** One rate run per `--procs-workers` entry (default 1 and 2 workers). */
  readonly rates: MultiProcessRun[];
  /** With `--procs-pin 1`: 1 worker, the bridge and its Redis on CPUs of their own (`pinLayout`), the load on the others. */
  readonly pinned: MultiProcessRun | undefined;
  /** Skipped with `--procs-n 0`. */
  readonly crash: MultiProcessRun | undefined;
}

/** Completions per second with the bridge in its own processes (issue #16 item 4). */
export const completionsTarget = 500;

function run(ctx: BenchContext, label: string, workers: number, count: number, killAt?: number, pinned = false) {
  const batch = ctx.int('procs-batch');
  const cpuProf = process.env.BENCH_CPU_PROF;
  ctx.progress(
    `processes: 2 servers, ${workers} worker(s), ${count} handoffs${killAt !== undefined ? ', one worker killed' : ''}${pinned ? ', pinned' : ''}`,
  );
  return runMultiProcess({
    pinned,
    servers: 2,
    workers,
    count,
    batch,
    ...(killAt !== undefined ? { killAt } : {}),
    serviceUrl: ctx.serviceUrl,
    sandbox: ctx.sandbox,
    logDir: ctx.logDir,
    prefix: ctx.track(`${ctx.base}-${label}`),
    ...(cpuProf ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', cpuProf] } : {}),
    progress: ctx.progress,
  });
}

const topCommands = (c: CommandCounts) =>
  Object.entries(c.byCommand)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');

export const processesPart = benchPart<ProcessesResult>({
  name: 'processes',
  title: 'several server and worker processes: completions/s, exactly once with a worker SIGKILLed',
  // `procs-workers`: the worker counts of the rate runs, as digits (`12`: 1 then 2 workers).
  // `procs-pin 1`: one more rate run with the bridge on CPUs of its own: one on a 2-CPU machine,
  // two on a machine with three or more (bench/cpu-pinning.ts `pinLayout`).
  flags: { 'procs-n': '10000', 'procs-rate-n': '2000', 'procs-batch': '500', 'procs-workers': '12', 'procs-pin': '1' },
  async run(ctx) {
    const rateN = ctx.int('procs-rate-n');
    // `--procs-n 0` skips the kill run.
    const n = ctx.int('procs-n', 0);
    const rates: MultiProcessRun[] = [];
    for (const workers of String(ctx.int('procs-workers')).split('').map(Number))
      rates.push(await run(ctx, `procs${workers}`, workers, rateN));
    const pinned = ctx.int('procs-pin', 0) === 1 ? await run(ctx, 'procsp', 1, rateN, undefined, true) : undefined;
    const crash =
      n > 0 ? await run(ctx, 'procsk', 2, n, Math.floor(Math.ceil(n / ctx.int('procs-batch')) / 2)) : undefined;
    return { rates, pinned, crash };
  },
  checks: ({ rates, pinned, crash }) => [
    ...rates.flatMap((r) => rateChecks(r)),
    ...(pinned ? pinnedChecks(pinned) : []),
    ...(crash ? crashChecks(crash) : []),
  ],
});

/**
 * The pinned run. On three CPUs or more the bridge (2 servers, 1 worker and its redis-server)
 * has CPUs 0–1 and the load, the agent's Redis and the service the rest: item 4 as written,
 * with its pass or fail. On two, the bridge has CPU 1 and the rest CPU 0: what one core gives
 * the bridge, and twice that as a model of two cores with the load apart, which carries no
 * pass or fail (there is no third core for the load).
 */
function pinnedChecks(r: MultiProcessRun) {
  if (r.bridgeCpus >= 2)
    return [
      {
        figure: `completions/s, the bridge (2 servers + 1 worker + its Redis) pinned to CPUs 0-1, the load on the others (n=${r.count})`,
        measured: `${round(r.perSecond)} /s`,
        target: `≥ ${completionsTarget} /s`,
        pass: r.perSecond >= completionsTarget,
      },
      cpuRow(r),
    ];
  return [
    {
      figure: `completions/s, the bridge (2 servers + 1 worker + its Redis) pinned to 1 CPU, the load on the other (n=${r.count})`,
      measured: `${round(r.perSecond)} /s`,
      target: '',
      pass: undefined,
    },
    {
      figure: '  twice that: 2 cores for the bridge, the load apart (a model)',
      measured: `${round(2 * r.perSecond)} /s`,
      target: `≥ ${completionsTarget} /s`,
      pass: undefined,
    },
    cpuRow(r),
  ];
}

/** CPU time per completion over the reply phases, by process. */
const cpuRow = ({ cpuPerCompletion: c }: MultiProcessRun) => ({
  figure: '  CPU ms per completion: redis-server / bridge processes (each) / load / sandbox',
  measured: `${c.redis} / ${c.bridge} (${c.byProcess.join(', ')}) / ${c.load} / ${c.sandbox}`,
  target: '',
  pass: undefined,
});

function rateChecks(r: MultiProcessRun) {
  return [
    {
      figure: `completions/s, 2 servers + ${r.workers} worker process(es), load apart (n=${r.count})`,
      measured: `${round(r.perSecond)} /s`,
      target: `≥ ${completionsTarget} /s`,
      pass: r.perSecond >= completionsTarget,
    },
    {
      figure: '  bridge Redis commands per handoff (create → resumed)',
      measured: `${r.commands.total}`,
      target: '',
      pass: undefined,
    },
    { figure: '    most', measured: topCommands(r.commands), target: '', pass: undefined },
    {
      figure: '  bridge Redis commands per completion (reply sent → agent resumed)',
      measured: `${r.replyCommands.total}; jobs moved to active ${r.replyCommands.byCommand.rpoplpush ?? 0}`,
      target: '',
      pass: undefined,
    },
    { figure: '    most', measured: topCommands(r.replyCommands), target: '', pass: undefined },
    cpuRow(r),
    {
      figure: '  CPU ms per handoff (create → resumed): redis-server / bridge processes',
      measured: `${r.cpuPerHandoff.redis} / ${r.cpuPerHandoff.bridge}`,
      target: '',
      pass: undefined,
    },
  ];
}

function crashChecks(crash: MultiProcessRun) {
  const lost = Object.entries(crash.load.notResumed);
  const lostCount = lost.reduce((a, [, n]) => a + n, 0);
  return [
    {
      figure: `exactly once, ${crash.count} handoffs, a worker SIGKILLed: resumed twice / ended twice in audit / exchanged twice`,
      measured: `${crash.load.resumedTwice} / ${crash.audit.twice} / ${crash.exchanges.maxPerLogin > 1 ? 'yes' : 0}`,
      target: '0 / 0 / 0',
      pass:
        crash.killed && crash.load.resumedTwice === 0 && crash.audit.twice === 0 && crash.exchanges.maxPerLogin <= 1,
    },
    {
      figure: '  not resumed with a credential (by error)',
      measured: lostCount ? lost.map(([code, n]) => `${code} ${n}`).join(', ') : '0',
      target: 'only exchange_lost (the kill cut the exchange)',
      pass: lost.every(([code]) => code === 'exchange_lost'),
    },
    {
      figure: '  feed: endings read twice / never; audit: endings missing',
      measured: `${crash.load.eventsTwice} / ${crash.load.eventsMissing}; ${crash.audit.missing}`,
      target: '0 / 0; 0',
      pass: crash.load.eventsTwice === 0 && crash.load.eventsMissing === 0 && crash.audit.missing === 0,
    },
    {
      figure: '  completions/s over the crash run',
      measured: `${round(crash.perSecond)} /s`,
      target: '',
      pass: undefined,
    },
  ];
}
