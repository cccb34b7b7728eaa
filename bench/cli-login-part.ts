import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchPart } from './bench-part.js';
import { startInprocBridge } from './inproc-bridge.js';
import { deletePrefix } from './redis-tools.js';
import { round, summarise, type Summary } from './stats.js';

/**
 * Issue #16 item 8: `handoff login` as an agent runs it — a new process, the compiled CLI
 * (bin/handoff.js → dist/) — from the moment it is spawned to the link visible in the local
 * thread (the bot's post listed by the thread's messages route, looked at every 2 ms). Each
 * run in a thread of its own; the process is stopped once the link shows. The build is
 * brought up to date first, as `npm install` leaves it.
 */
interface CliLoginResult {
  readonly linkMs: Summary;
  readonly compiled: boolean;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const cliLoginPart = benchPart<CliLoginResult>({
  name: 'cli-login',
  title: '`handoff login` spawned → link in the thread (compiled CLI, a process per run)',
  flags: { 'cli-login-n': '30' },
  async run(ctx) {
    ctx.progress('cli-login: npm run build (dist/ as npm install leaves it)');
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    const prefix = ctx.track(`${ctx.base}-cli`);
    const bridge = await startInprocBridge({
      prefix,
      redisUrl: ctx.redisUrl,
      logFile: join(ctx.logDir, `${prefix}.log`),
    });
    const samples: number[] = [];
    let compiled = true;
    try {
      const n = ctx.int('cli-login-n');
      for (let i = 0; i < n; i++) {
        const name = `cli-${i}-${Date.now().toString(36)}`;
        const env: NodeJS.ProcessEnv = { ...process.env, HANDOFF_URL: bridge.url, HANDOFF_API_TOKEN: bridge.apiToken };
        delete env.HANDOFF_FROM_SOURCE;
        const started = performance.now();
        const child = spawn(
          process.execPath,
          ['bin/handoff.js', 'login', '--service', ctx.serviceUrl, '--thread', `local:${name}`, '--json'],
          { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
        try {
          for (;;) {
            const res = await fetch(`${bridge.url}/v1/threads/local/${name}/messages`);
            const body = (await res.json()) as { messages: Array<{ kind: string; link?: string }> };
            if (body.messages.some((m) => m.kind === 'bot' && m.link)) break;
            if (child.exitCode !== null) throw new Error(`handoff login exited ${child.exitCode}:\n${stderr}`);
            await sleep(2);
          }
          samples.push(performance.now() - started);
        } finally {
          child.kill('SIGTERM');
          await exited;
        }
        if (stderr.includes('running them through tsx')) compiled = false;
        if ((i + 1) % 10 === 0) ctx.progress(`cli-login: ${i + 1}/${n}`);
      }
    } finally {
      await bridge.close();
      await deletePrefix(ctx.redis, prefix);
    }
    return { linkMs: summarise(samples), compiled };
  },
  checks(r) {
    return [
      {
        figure: `handoff login → link in the thread, p50 (n=${r.linkMs.count}${r.compiled ? '' : ', NOT compiled'})`,
        measured: `${round(r.linkMs.p50)} ms`,
        target: '≤ 150 ms',
        pass: r.compiled && r.linkMs.p50 <= 150,
      },
      {
        figure: '  same, p95 / min / max',
        measured: `${round(r.linkMs.p95)} / ${round(r.linkMs.min)} / ${round(r.linkMs.max)} ms`,
        target: '',
        pass: undefined,
      },
    ];
  },
});
