import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isAgentKeyHash } from '../core/agent-keys.js';
import { agentIdSchema, agentPolicyFields, type AgentPolicy } from '../core/agent-policy.js';
import { ConfigError } from '../core/errors.js';

/**
 * Agents declared in a file (`HANDOFF_AGENTS_FILE`), for operators who keep policy in git.
 * JSON or YAML, either a list or `{agents: [...]}`; each entry is what `POST /v1/agents` takes
 * plus `keyHash` (from `handoff agents hash`), never a key. Read once at start: a change
 * takes effect when the bridge restarts. A bad file stops start-up naming the entry.
 *
 *   agents:
 *     - id: deploy-bot
 *       keyHash: sha256:3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
 *       services: ["https://*.example.com"]
 *       threads: ["local:ops-*"]
 */
export interface FileAgent {
  readonly id: string;
  readonly keyHash: string;
  readonly policy: AgentPolicy;
}

const variable = 'HANDOFF_AGENTS_FILE';

const entrySchema = z.strictObject({
  id: agentIdSchema,
  keyHash: z.string().refine(isAgentKeyHash, {
    message: 'must be a key hash as `handoff agents hash` prints it (sha256:…), never the key itself',
  }),
  ...agentPolicyFields,
});

function fail(path: string, why: string): never {
  throw new ConfigError(variable, `${variable} (${path}) ${why}`);
}

/** Parses the file's text; `path` is only for messages. */
export function parseAgentsFile(text: string, path: string): FileAgent[] {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    fail(path, `is neither JSON nor YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(doc)
    ? doc
    : doc && typeof doc === 'object' && 'agents' in doc
      ? (doc as { agents: unknown }).agents
      : undefined;
  if (!Array.isArray(list)) fail(path, 'must hold a list of agents, or an object with an "agents" list.');
  const agents: FileAgent[] = [];
  const ids = new Set<string>();
  const hashes = new Set<string>();
  list.forEach((entry, index) => {
    const name = `entry ${index + 1}${entry && typeof entry === 'object' && typeof (entry as { id?: unknown }).id === 'string' ? ` ("${String((entry as { id: string }).id).slice(0, 64)}")` : ''}`;
    const parsed = entrySchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.map(String).join('.');
      const what =
        issue.code === 'unrecognized_keys'
          ? 'is not a known field (use id, keyHash, services, threads, approvers, maxOpenHandoffs, maxHandoffsPerMinute)'
          : issue.message;
      fail(path, `${name}: ${field ? `field "${field}" ` : ''}${what}.`);
    }
    const { id, keyHash, ...policy } = parsed.data;
    if (ids.has(id)) fail(path, `${name}: the id "${id}" is declared twice.`);
    if (hashes.has(keyHash)) fail(path, `${name}: its keyHash is also another entry's; give each agent its own key.`);
    ids.add(id);
    hashes.add(keyHash);
    agents.push({ id, keyHash, policy });
  });
  return agents;
}

/** Reads and parses the agents file. */
export async function readAgentsFile(path: string): Promise<FileAgent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    fail(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  return parseAgentsFile(text, path);
}
