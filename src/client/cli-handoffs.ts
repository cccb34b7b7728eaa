import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { describeHandoff, exitCodes } from './cli-output.js';
import { clientFrom, UsageError, type Command, type Io } from './cli-common.js';
import { credentialCommands } from './cli-credentials.js';
import { login } from './cli-login.js';

/**
 * The agent's commands: ask for a login and wait (cli-login.ts), reply locally, look, cancel;
 * fetch, list and revoke credentials (cli-credentials.ts).
 */
async function reply(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { as: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [ref, ...words] = positionals;
  const match = /^local:(.+)$/.exec(ref ?? '');
  if (!match)
    throw new UsageError('reply needs a local thread (local:<name>) and the text: handoff reply local:demo "aae_…"');
  if (words.length === 0) throw new UsageError('reply needs the text to send.');
  const client = await clientFrom(env);
  const result = await client.replyLocal(match[1]!, values.as ?? userInfo().username, words.join(' '));
  io.out(result.ack === 'duplicate' ? 'Already received.' : 'Sent.');
  return exitCodes.done;
}

async function status(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const client = await clientFrom(env);
  if (positionals[0]) {
    const view = await client.getHandoff(positionals[0]);
    io.out(values.json ? JSON.stringify(view) : describeHandoff(view));
    return exitCodes.done;
  }
  const open = await client.listHandoffs({ open: true, limit: 50 });
  if (values.json) io.out(JSON.stringify({ handoffs: open }));
  else io.out(open.length ? open.map(describeHandoff).join('\n\n') : 'No open handoffs.');
  return exitCodes.done;
}

async function cancel(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (!positionals[0]) throw new UsageError('cancel needs a handoff id.');
  const view = await (await clientFrom(env)).cancelHandoff(positionals[0]);
  io.out(values.json ? JSON.stringify(view) : `Cancelled ${view.id}.`);
  return exitCodes.done;
}

export const handoffCommands: Record<string, Command> = {
  login,
  reply,
  status,
  cancel,
  ...credentialCommands,
};
