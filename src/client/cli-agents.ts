import { parseArgs } from 'node:util';
import { generateAgentKey, hashAgentKey, isAgentKey } from '../core/agent-keys.js';
import type { AgentPolicy } from '../core/agent-policy.js';
import type { AgentView, AgentWithKey } from '../core/wire.js';
import { clientFrom, UsageError, type Command, type Io } from './cli-common.js';
import { exitCodes } from './cli-output.js';

/**
 * `handoff agents add|list|show|rotate|remove|hash`: the operator's commands (they use the
 * admin token, never HANDOFF_AGENT_KEY). A key is printed once, when it is made.
 */
export const agentsUsage = `  agents add ID [--service ORIGIN_GLOB]... [--thread REF_GLOB]... [--approver ID]...
        [--max-open N] [--max-per-minute N] [--json | --key-only]
                                 create an agent; prints its key once
  agents list [--json]           every agent (from the API and from HANDOFF_AGENTS_FILE)
  agents show ID [--json]        one agent's policy and limits
  agents rotate ID [--json | --key-only]
                                 a new key (the old one stops working at once)
  agents remove ID [--json]      remove it: key dead, open handoffs cancelled, credentials revoked
  agents hash [--stdin] [--json] a new key and the keyHash for HANDOFF_AGENTS_FILE
                                 (--stdin: the hash of a key read from standard input)`;

const list = (v: readonly string[] | null) => (v === null ? 'any' : v.length === 0 ? 'none' : v.join(', '));

export function describeAgent(a: AgentView): string {
  return [
    `${a.id}  (${a.managedBy === 'file' ? 'from HANDOFF_AGENTS_FILE' : 'created through the API'})`,
    `  services  ${list(a.services)}`,
    `  threads   ${list(a.threads)}`,
    `  approvers ${list(a.approvers)}`,
    `  limits    ${a.limits.maxOpenHandoffs} open, ${a.limits.maxHandoffsPerMinute} a minute${a.maxOpenHandoffs === null && a.maxHandoffsPerMinute === null ? ' (the bridge defaults)' : ''}`,
    ...(a.createdAt !== null ? [`  created   ${new Date(a.createdAt).toISOString()}`] : []),
    ...(a.keyRotatedAt !== null ? [`  rotated   ${new Date(a.keyRotatedAt).toISOString()}`] : []),
  ].join('\n');
}

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a whole number of 1 or more (got "${value}").`);
  return n;
}

function printKey(
  result: AgentWithKey,
  verb: string,
  values: { json?: boolean | undefined; 'key-only'?: boolean | undefined },
  io: Io,
): number {
  if (values.json && values['key-only']) throw new UsageError('Choose --json or --key-only, not both.');
  if (values.json) io.out(JSON.stringify(result));
  else if (values['key-only']) io.out(result.apiKey);
  else {
    io.out(`${describeAgent(result.agent)}\n  key       ${result.apiKey}`);
    io.err(`Agent ${result.agent.id} ${verb}. The key is shown this once: give it to the agent as HANDOFF_AGENT_KEY.`);
  }
  return exitCodes.done;
}

const keyOptions = {
  json: { type: 'boolean', default: false },
  'key-only': { type: 'boolean', default: false },
} as const;

const add: Command = async (argv, env, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      service: { type: 'string', multiple: true },
      thread: { type: 'string', multiple: true },
      approver: { type: 'string', multiple: true },
      'max-open': { type: 'string' },
      'max-per-minute': { type: 'string' },
      ...keyOptions,
    },
    allowPositionals: true,
    strict: true,
  });
  const [id, ...extra] = positionals;
  if (!id || extra.length)
    throw new UsageError('agents add needs one agent id, e.g. handoff agents add deploy-bot --thread "local:*"');
  const maxOpen = count('max-open', values['max-open']);
  const maxPerMinute = count('max-per-minute', values['max-per-minute']);
  const policy: AgentPolicy = {
    ...(values.service ? { services: values.service } : {}),
    ...(values.thread ? { threads: values.thread } : {}),
    ...(values.approver ? { approvers: values.approver } : {}),
    ...(maxOpen !== undefined ? { maxOpenHandoffs: maxOpen } : {}),
    ...(maxPerMinute !== undefined ? { maxHandoffsPerMinute: maxPerMinute } : {}),
  };
  return printKey(await (await clientFrom(env, 'admin')).createAgent({ id, ...policy }), 'created', values, io);
};

const listAgents: Command = async (argv, env, io) => {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true });
  const agents = await (await clientFrom(env, 'admin')).listAgents();
  if (values.json) io.out(JSON.stringify({ agents }));
  else
    io.out(
      agents.length ? agents.map(describeAgent).join('\n\n') : 'No agents yet: create one with handoff agents add ID.',
    );
  return exitCodes.done;
};

function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1)
    throw new UsageError(`agents ${command} needs one agent id (see: handoff agents list).`);
  return positionals[0]!;
}

const show: Command = async (argv, env, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const agent = await (await clientFrom(env, 'admin')).getAgent(oneId(positionals, 'show'));
  io.out(values.json ? JSON.stringify({ agent }) : describeAgent(agent));
  return exitCodes.done;
};

const rotate: Command = async (argv, env, io) => {
  const { values, positionals } = parseArgs({ args: argv, options: keyOptions, allowPositionals: true, strict: true });
  return printKey(
    await (await clientFrom(env, 'admin')).rotateAgentKey(oneId(positionals, 'rotate')),
    'has a new key (the old one no longer works)',
    values,
    io,
  );
};

const remove: Command = async (argv, env, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const result = await (await clientFrom(env, 'admin')).removeAgent(oneId(positionals, 'remove'));
  if (values.json) io.out(JSON.stringify(result));
  else {
    io.out(
      `Removed ${result.agent.id}: its key no longer works; ${result.cancelledHandoffs.length} open handoff(s) cancelled, ${result.revokedCredentials.length} credential(s) revoked and deleted.` +
        (result.stillOpen.length ? ` Still open (a code was being checked): ${result.stillOpen.join(', ')}.` : ''),
    );
  }
  return exitCodes.done;
};

const hash: Command = async (argv, _env, io) => {
  const { values } = parseArgs({
    args: argv,
    options: { stdin: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.stdin) {
    const given = (await io.readInput?.())?.trim() ?? '';
    if (!isAgentKey(given)) throw new UsageError('agents hash --stdin needs an agent key (hak_…) on standard input.');
    const keyHash = hashAgentKey(given);
    io.out(values.json ? JSON.stringify({ keyHash }) : keyHash);
    return exitCodes.done;
  }
  const apiKey = generateAgentKey();
  const keyHash = hashAgentKey(apiKey);
  if (values.json) io.out(JSON.stringify({ apiKey, keyHash }));
  else {
    io.out(`key      ${apiKey}\nkeyHash  ${keyHash}`);
    io.err(
      'Put the keyHash in HANDOFF_AGENTS_FILE and give the key to the agent as HANDOFF_AGENT_KEY; the bridge never sees the key itself.',
    );
  }
  return exitCodes.done;
};

const subcommands: Record<string, Command> = { add, list: listAgents, show, rotate, remove, hash };

export const agentsCommand: Command = async (argv, env, io) => {
  const [name, ...rest] = argv;
  const sub = name ? subcommands[name] : undefined;
  if (!sub) throw new UsageError(`agents needs one of: ${Object.keys(subcommands).join(', ')}.\n\n${agentsUsage}`);
  return sub(rest, env, io);
};
