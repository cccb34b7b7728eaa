#!/usr/bin/env node
// The `handoff` command. TypeScript sources run through tsx, so a fresh clone needs no build.
import { register } from 'tsx/esm/api';

register();
const [command, ...args] = process.argv.slice(2);
const roles = { serve: 'all', server: 'server', worker: 'worker' };
if (command in roles) {
  const { serve } = await import('../src/main.ts');
  process.exitCode = await serve(process.env, roles[command], args);
  process.exit();
} else if (command === 'vault') {
  // An operator's command on the bridge's store, not a client of its API.
  const { runVaultCommand } = await import('../src/app/vault-command.ts');
  process.exitCode = await runVaultCommand(args, process.env);
} else {
  const { runCli } = await import('../src/client/cli.ts');
  process.exitCode = await runCli(process.argv.slice(2), process.env);
}
