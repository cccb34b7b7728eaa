import { generateAgentKey, hashAgentKey, isAgentKey, sameKeyHash } from '../core/agent-keys.js';
import { agentIdSchema, agentPolicyFields, type AgentPolicy } from '../core/agent-policy.js';
import type { AuditOrigin, Caller } from '../core/caller.js';
import { BadInputError, ConflictError, NotFoundError } from '../core/errors.js';
import { z } from 'zod';
import type { AgentView, AgentWithKey } from '../core/wire.js';
import type { KnownAgent } from './agent-directory.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Agents as the operator manages them: create one (its key shown once, kept as a hash),
 * rotate its key (the old one dies at once), and the picture the API gives of one. And the
 * other side: turning a presented agent key into a caller.
 */
export function toAgentView(deps: EngineDeps, agent: KnownAgent): AgentView {
  const p = agent.policy;
  return {
    id: agent.id,
    managedBy: agent.managedBy,
    services: p.services ?? null,
    threads: p.threads ?? null,
    approvers: p.approvers ?? null,
    maxOpenHandoffs: p.maxOpenHandoffs ?? null,
    maxHandoffsPerMinute: p.maxHandoffsPerMinute ?? null,
    limits: deps.agents.limitsOf(agent),
    createdAt: agent.createdAt ?? null,
    keyRotatedAt: agent.keyRotatedAt ?? null,
  };
}

const newAgentSchema = z.strictObject({ id: agentIdSchema, ...agentPolicyFields });

/** Validates `POST /v1/agents`; the error names the first offending field. */
export function parseNewAgent(body: unknown): { id: string; policy: AgentPolicy } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('The request body must be a JSON object such as {"id": "deploy-bot"}.', {
      code: 'invalid_request',
      details: { field: 'body' },
    });
  }
  const parsed = newAgentSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field =
      issue.code === 'unrecognized_keys'
        ? [...issue.path, issue.keys[0]].map(String).join('.')
        : issue.path.map(String).join('.') || 'body';
    const what =
      issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message.replace(/^Invalid input: /, '');
    throw new BadInputError(`Field "${field}" ${what}.`, { code: 'invalid_request', details: { field } });
  }
  const { id, ...policy } = parsed.data;
  return { id, policy };
}

const managedByFile = (id: string) =>
  new ConflictError(
    `Agent ${id} is declared in HANDOFF_AGENTS_FILE; change it there (and restart the bridge), not through the API.`,
    'agent_managed_by_file',
  );

export const agentNotFound = (id: string) =>
  new NotFoundError(`No agent ${id.slice(0, 64)} exists.`, 'agent_not_found');

export async function createAgent(
  deps: EngineDeps,
  input: { id: string; policy: AgentPolicy },
  origin: AuditOrigin,
): Promise<AgentWithKey> {
  if (deps.agents.fileAgent(input.id)) throw managedByFile(input.id);
  const apiKey = generateAgentKey();
  const stored = { id: input.id, policy: input.policy, keyHash: hashAgentKey(apiKey), createdAt: deps.clock.now() };
  if (!(await deps.agents.store.create(stored))) {
    throw new ConflictError(
      `Agent ${input.id} exists already; rotate its key (POST /v1/agents/${input.id}/key) or remove it first.`,
      'agent_exists',
    );
  }
  await deps.audit.append({ event: 'agent.created', agentId: input.id, ...origin });
  return { agent: toAgentView(deps, { ...stored, managedBy: 'api' }), apiKey };
}

export async function rotateAgentKey(deps: EngineDeps, id: string, origin: AuditOrigin): Promise<AgentWithKey> {
  if (deps.agents.fileAgent(id)) throw managedByFile(id);
  const apiKey = generateAgentKey();
  const rotated = await deps.agents.store.rotate(id, hashAgentKey(apiKey), deps.clock.now());
  if (!rotated) throw agentNotFound(id);
  await deps.audit.append({ event: 'agent.key_rotated', agentId: id, ...origin });
  return { agent: toAgentView(deps, { ...rotated, managedBy: 'api' }), apiKey };
}

/** Refuses changes to a file agent (409 `agent_managed_by_file`). */
export function assertManagedByApi(deps: EngineDeps, id: string): void {
  if (deps.agents.fileAgent(id)) throw managedByFile(id);
}

/** How often the reuse of one dead key is audited, ms. */
const deadKeyAuditWindowMs = 60_000;

/**
 * The caller an agent key stands for, or undefined. A rotated or removed key is refused like
 * any wrong one, and its use is audited (once a minute per key) with the agent it belonged to:
 * an old key in use is worth an operator's look.
 */
export async function authenticateAgentKey(
  deps: EngineDeps,
  presented: string,
  seen: { source: string; requestId: string },
): Promise<Caller | undefined> {
  if (!isAgentKey(presented)) return undefined;
  const keyHash = hashAgentKey(presented);
  const found = await deps.agents.byKeyHash(keyHash);
  if (found?.kind === 'live')
    return sameKeyHash(found.agent.keyHash, keyHash) ? { kind: 'agent', agentId: found.agent.id } : undefined;
  if (found?.kind === 'dead') {
    await deps.audit.appendOnce(`dead-key:${keyHash}`, deadKeyAuditWindowMs, {
      event: 'auth.dead_key',
      agentId: found.agentId,
      actor: `agent:${found.agentId}`,
      source: seen.source,
      requestId: seen.requestId,
    });
  }
  return undefined;
}
