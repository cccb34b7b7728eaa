import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createNetworkPolicy } from '../src/core/network-policy.js';
import type { ServiceHttp, ServiceHttpOptions } from '../src/login/service-http.js';

/**
 * Micro-bench of the service HTTP client alone: CPU µs per call, in the calling process only,
 * against a loopback JSON service in a child process (its CPU is not counted). N calls one
 * after another, then N with `concurrency` in flight. The client module is an argument, so
 * one run can compare two checkouts (fetch-based vs request-based):
 *
 *   node --import tsx bench/service-http-calls.ts [path/to/service-http.ts ...] [--n 4000] [--concurrency 16]
 */
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

if (process.env.SERVICE_BENCH_CHILD) {
  // The service: a token-sized JSON answer to every POST, keep-alive on.
  const body = JSON.stringify({ access_token: 'x'.repeat(40), token_type: 'Bearer', expires_in: 3600 });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  const n = flag('--n', 4000);
  const concurrency = flag('--concurrency', 16);
  const modules = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (modules.length === 0) modules.push('src/login/service-http.ts');
  const child = fork(new URL(import.meta.url).pathname, [], {
    env: { ...process.env, SERVICE_BENCH_CHILD: '1' },
    execArgv: ['--import', 'tsx'],
  });
  const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
  const url = `http://127.0.0.1:${port}/token`;
  const ctx = { agentId: 'agent-1', correlationId: 'corr-1' };

  const cpu = async (http: ServiceHttp, calls: number, inFlight: number): Promise<number> => {
    let next = 0;
    const start = process.cpuUsage();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < calls) await http.request(url, { form: { grant_type: 'x', code: 'y' }, ctx });
      }),
    );
    const used = process.cpuUsage(start);
    return (used.user + used.system) / calls;
  };

  for (const path of modules) {
    const mod = (await import(pathToFileURL(path).href)) as {
      createServiceHttp(o: ServiceHttpOptions): ServiceHttp;
    };
    const http = mod.createServiceHttp({ policy: createNetworkPolicy({ production: false }) });
    await cpu(http, 500, 4); // warm up (JIT, connections)
    const rows: string[] = [];
    for (let round = 0; round < 3; round++) {
      const seq = await cpu(http, n, 1);
      const conc = await cpu(http, n, concurrency);
      rows.push(`sequential ${seq.toFixed(0)} µs/call, ${concurrency} in flight ${conc.toFixed(0)} µs/call`);
    }
    console.log(`${path}\n  ${rows.join('\n  ')}`);
  }
  child.kill();
}
