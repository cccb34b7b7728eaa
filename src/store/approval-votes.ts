import type { Redis } from './redis.js';
import { maxReasonLength, type ApprovalDecision, type VoteChoice, type VoteResult } from '../core/approval.js';
import { cleanText } from '../core/untrusted-text.js';
import { appendEndingLua, feedMaxAgeMs, feedMaxLength } from './agent-feed.js';
import { appendEndingAuditLua, auditMaxLength } from './audit-log.js';
import { decodeRecord } from './handoff-codec.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/**
 * One vote on an approval, atomically (issue #13). The script reads the record, refuses a
 * second vote by the same person (the same way: `repeated`; the other way: `changed_mind`),
 * appends the vote, and settles when it decides: any deny denies, `quorum` distinct approvals
 * approve. Settling is the same ending as every other (status `completed`, the entry in the
 * agent's feed, its `handoff.completed` audit entry with the decision's outcome and reason, the
 * PUBLISH that wakes long polls and the resumer), in the same script, so however many votes
 * race, exactly one settles and the others find it closed, and a crash just after the script
 * (or a retry of the vote) can neither lose nor repeat the ending's audit entry; only the
 * sink's copy is left to the caller (AuditLog.copyToSink), as for the transition.
 *
 * Who may vote (approvers, requestedBy, the bridge's own account) is decided before, by the
 * engine (src/engine/approval-vote.ts); the script only counts.
 *
 * KEYS[1] record, KEYS[2] the agent's feed, KEYS[3] the audit stream. ARGV: voter, vote
 * (approve|deny), reason or '', now (ms), events channel, retention ms, agent id, feed max
 * length, feed max age (ms), audit max length. The ending's actor is the voter.
 * Returns {code, record JSON}: 1 counted, 2 settled, 3 repeated, 4 changed mind, 0 closed,
 * -1 missing, -2 not the record's agent or not an approval.
 */
const voteScript = new LuaScript(`${appendEndingLua}${appendEndingAuditLua}
local raw = redis.call('GET', KEYS[1])
if not raw then return {-1} end
local rec = cjson.decode(raw)
if rec.kind ~= 'approval' or rec.agentId ~= ARGV[7] or type(rec.approval) ~= 'table' then return {-2} end
if rec.status ~= 'awaiting_human' then return {0, raw} end
local voter, vote, now = ARGV[1], ARGV[2], tonumber(ARGV[4])
local votes = rec.votes
if type(votes) ~= 'table' then votes = {} end
if type(votes.approve) ~= 'table' then votes.approve = {} end
if type(votes.deny) ~= 'table' then votes.deny = {} end
for _, side in ipairs({'approve', 'deny'}) do
  for _, v in ipairs(votes[side]) do
    if v.w == voter then
      if side == vote then return {3, raw} end
      return {4, raw}
    end
  end
end
local entry = {w = voter, a = now}
if vote == 'deny' and ARGV[3] ~= '' then entry.r = ARGV[3] end
table.insert(votes[vote], entry)
rec.votes = votes
rec.version = rec.version + 1
rec.updatedAt = now
local decision = nil
if vote == 'deny' then
  decision = {outcome = 'denied', by = {{who = voter, at = now}}, at = now}
  if ARGV[3] ~= '' then decision.reason = ARGV[3] end
elseif #votes.approve >= (tonumber(rec.approval.quorum) or 1) then
  local by = {}
  for i, v in ipairs(votes.approve) do by[i] = {who = v.w, at = v.a} end
  decision = {outcome = 'approved', by = by, at = now}
end
if decision then
  rec.decision = decision
  rec.status = 'completed'
  rec.completedAt = now
end
local out = string.gsub(cjson.encode(rec), '\\\\/', '/')
redis.call('SET', KEYS[1], out, 'KEEPTTL')
if not decision then return {1, out} end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
append_ending(KEYS[2], rec, ARGV[4], ARGV[8], ARGV[9])
append_ending_audit(KEYS[3], ARGV[10], rec, voter, '', '')
redis.call('PUBLISH', ARGV[5], rec.id .. ' ' .. rec.status .. ' ' .. rec.agentId)
return {2, out}
`);

export interface ApprovalVotesStore {
  /** Records one person's vote; settles the approval when it decides. */
  vote(args: {
    handoffId: string;
    agentId: string;
    voter: string;
    choice: VoteChoice;
    now: number;
  }): Promise<VoteResult & { readonly record?: HandoffRecord }>;
}

export function createApprovalVotes(deps: {
  redis: Redis;
  keys: Keys;
  /** The bookkeeping after an ending (HandoffStore.ended). */
  ended: (record: HandoffRecord) => Promise<void>;
  /** How long a settled record stays readable, ms. */
  retentionMs: number;
  feedLimits?: { readonly maxLength: number; readonly maxAgeMs: number };
}): ApprovalVotesStore {
  const { redis, keys } = deps;
  const feed = deps.feedLimits ?? { maxLength: feedMaxLength, maxAgeMs: feedMaxAgeMs };
  return {
    async vote({ handoffId, agentId, voter, choice, now }) {
      // Bounded here too (the reply's reader bounds it first): it goes into the record and the audit.
      const reason = choice.vote === 'deny' ? cleanText(choice.reason ?? '', maxReasonLength) : '';
      const reply = (await voteScript.run(
        redis,
        [keys.handoff(handoffId), keys.agentFeed(agentId), keys.audit()],
        [
          voter,
          choice.vote,
          reason,
          String(now),
          keys.events(),
          String(deps.retentionMs),
          agentId,
          String(feed.maxLength),
          String(feed.maxAgeMs),
          String(auditMaxLength),
        ],
      )) as [number, string?];
      if (reply[0] === -1 || reply[0] === -2) return { kind: 'not_found' };
      const record = decodeRecord(reply[1]);
      if (!record) return { kind: 'not_found' };
      switch (reply[0]) {
        case 1:
          return {
            kind: 'counted',
            approvals: record.votes?.approve.length ?? 0,
            needed: record.approval?.quorum ?? 1,
            record,
          };
        case 2:
          await deps.ended(record);
          return { kind: 'settled', decision: record.decision as ApprovalDecision, record };
        case 3:
          return { kind: 'repeated', record };
        case 4:
          return { kind: 'changed_mind', record };
        default:
          return {
            kind: 'closed',
            status: record.status,
            ...(record.decision ? { decision: record.decision } : {}),
            record,
          };
      }
    },
  };
}
