import { parseArgs } from 'node:util';
import { describeCredential, exitCodes } from './cli-output.js';
import { clientFrom, UsageError, writeSecretFile, type Command, type Io } from './cli-common.js';

/** The credential commands: fetch one into a file, list them, revoke one (at the service too, when it can). */
async function credential(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (!positionals[0]) throw new UsageError('credential needs a handoff id.');
  if (!values.out && !values.json)
    throw new UsageError('credential needs --out FILE (written with mode 0600), or --json to print it.');
  const client = await clientFrom(env);
  const found = await client.retrieveCredential(positionals[0]);
  if (values.out) {
    await writeSecretFile(values.out, { handoffId: positionals[0], ...found });
    io.out(
      values.json ? JSON.stringify({ credentialFile: values.out }) : `Credential written to ${values.out} (mode 0600).`,
    );
  } else io.out(JSON.stringify(found));
  return exitCodes.done;
}

async function credentials(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { agent: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: false,
    strict: true,
  });
  const list = await (
    await clientFrom(env)
  ).listCredentials({ limit: 200, ...(values.agent ? { agent: values.agent } : {}) });
  if (values.json) io.out(JSON.stringify({ credentials: list }));
  else io.out(list.length ? list.map(describeCredential).join('\n\n') : 'No credentials.');
  return exitCodes.done;
}

async function revoke(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (!positionals[0]) throw new UsageError('revoke needs a credential id (see: handoff credentials).');
  const result = await (await clientFrom(env)).revokeCredential(positionals[0]);
  if (values.json) io.out(JSON.stringify(result));
  else {
    const where = {
      revoked: 'at the service and here',
      not_supported: 'here (the service offers no way to revoke it)',
      failed: `here; revoking at the service failed (${result.serviceError ?? 'unknown'})`,
    }[result.atService];
    io.out(`Revoked ${result.credential.id} ${where}.`);
  }
  return exitCodes.done;
}

export const credentialCommands: Record<string, Command> = { credential, credentials, revoke };
