#!/usr/bin/env node
// The `handoff` command. It runs the compiled JavaScript in dist/ (`npm run build`; `npm install`
// runs it through `prepare`), so a command starts in tens of milliseconds. It runs the TypeScript
// sources through tsx instead when there is no dist/, when a source is newer than the build (an
// edit not yet built: never run stale code), or with HANDOFF_FROM_SOURCE=1 (the tests).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { URL } from 'node:url';

const root = new URL('../', import.meta.url);
const [command, ...args] = process.argv.slice(2);

/** The newest modification time under `dir` (a file URL ending in /), ms; 0 when it is missing. */
function newest(dir) {
  let latest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const url = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
    latest = Math.max(latest, entry.isDirectory() ? newest(url) : statSync(url).mtimeMs);
  }
  return latest;
}

function compiledIsCurrent() {
  if (process.env.HANDOFF_FROM_SOURCE === '1') return false;
  // Every build writes every file, this one among them.
  const stamp = new URL('dist/src/main.js', root);
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  if (Math.max(newest(new URL('src/', root)), newest(new URL('adapters/', root))) <= builtAt) return true;
  process.stderr.write('handoff: sources changed since the last build; running them through tsx (npm run build).\n');
  return false;
}

if (command === '--version' || command === '-v' || command === 'version') {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).version}\n`);
} else {
  const compiled = compiledIsCurrent();
  if (!compiled) (await import('tsx/esm/api')).register();
  // `serve` runs what HANDOFF_ROLE says (default all); `server` and `worker` are that role whatever it says.
  const roles = { serve: undefined, server: 'server', worker: 'worker' };
  if (command in roles) {
    const { serve } = compiled ? await import('../dist/src/main.js') : await import('../src/main.ts');
    process.exitCode = await serve(process.env, roles[command], args);
    process.exit();
  } else if (command === 'vault') {
    // An operator's command on the bridge's store, not a client of its API.
    const { runVaultCommand } = compiled
      ? await import('../dist/src/app/vault-command.js')
      : await import('../src/app/vault-command.ts');
    process.exitCode = await runVaultCommand(args, process.env);
  } else {
    const { runCli } = compiled ? await import('../dist/src/client/cli.js') : await import('../src/client/cli.ts');
    process.exitCode = await runCli(process.argv.slice(2), process.env);
  }
}
