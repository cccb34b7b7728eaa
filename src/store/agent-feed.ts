import type { Redis } from './redis.js';
import type { TerminalStatus } from '../core/handoff.js';
import type { Keys } from './keys.js';

/**
 * Each agent's feed of handoff endings: one Redis stream per agent, appended by the same
 * script that ends the handoff (src/store/handoff-store.ts), so no ending is ever recorded
 * without its entry. Agents follow it over HTTP (`GET /v1/events`) to wake their parked jobs;
 * it is the only thing of the bridge's Redis an agent ever learns about.
 *
 * Bounded twice, exactly (a feed is small, so exact trimming is cheap): at most
 * `feedMaxLength` entries, none older than `feedMaxAgeMs` (and the stream itself expires after
 * that long idle). A reader further behind than either learns it from `gap`; the job it waits
 * for still resumes at its own expiry, and handoffs live far shorter than the feed's age limit.
 *
 * Entry fields (short names: every byte is kept per ending): `h` handoff id, `s` terminal
 * status, `t` when it ended (epoch ms), `e` error code or '', `p` the previous entry's id in
 * this stream ('0-0' for the first), which is how a reader tells a gap from a quiet feed. A
 * completed login whose ending was given its credential's scopes also has `c` the credential
 * id, `g` its scopes (space-separated) and, when a standing grant answered it, `r` '1', so the
 * agent's `requireLogin()` needs no second request; never the credential itself. Entries
 * without them (approvals, other endings, older entries) read as "no credential here".
 */

/** Entries kept per agent (`XADD MAXLEN`). */
export const feedMaxLength = 1_000;

/** Oldest entry kept, ms (7 days: as long as finished handoffs stay readable). */
export const feedMaxAgeMs = 7 * 24 * 3_600_000;

/**
 * The Lua that appends one ending to an agent's feed, shared by every script that ends a
 * handoff (the transition in handoff-store.ts, the vote in approval-votes.ts): defines
 * `append_ending(feed_key, rec, now, max_len, max_age, scopes)`. `scopes` (`feedScopes`, or
 * nil) are the credential's, for a completed login's `c g r`; the record holds the credential
 * id (`credentialId`) and `reused` under those names (handoff-codec.ts keeps them long).
 */
export const appendEndingLua = `
local function append_ending(feed_key, rec, now, max_len, max_age, scopes)
  local last = redis.call('XREVRANGE', feed_key, '+', '-', 'COUNT', 1)
  local prev = '0-0'
  if last[1] then prev = last[1][1] end
  local code = ''
  if type(rec.error) == 'table' and type(rec.error.code) == 'string' then code = string.sub(rec.error.code, 1, 100) end
  local fields = {'h', rec.id, 's', rec.status, 't', now, 'e', code, 'p', prev}
  if scopes and rec.status == 'completed' and type(rec.credentialId) == 'string' then
    fields[11] = 'c'
    fields[12] = rec.credentialId
    fields[13] = 'g'
    fields[14] = scopes
    if rec.reused == true then
      fields[15] = 'r'
      fields[16] = '1'
    end
  end
  redis.call('XADD', feed_key, 'MAXLEN', max_len, '*', unpack(fields))
  -- Stream ids are Redis's clock, so the age limit is measured on it too.
  local t = redis.call('TIME')
  local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(max_age)
  redis.call('XTRIM', feed_key, 'MINID', string.format('%.0f', oldest))
  redis.call('PEXPIRE', feed_key, max_age)
end
`;

/** One ending, as the feed keeps it. */
export interface FeedEntry {
  /** The stream entry id (`<ms>-<seq>`), the position a cursor names. */
  readonly id: string;
  /** The handoff that ended. */
  readonly handoffId: string;
  /** How it ended. */
  readonly status: TerminalStatus;
  /** When the handoff ended, epoch ms. */
  readonly endedAt: number;
  /** The handoff's error code, for endings other than `completed`. */
  readonly errorCode?: string;
  /** A completed login's credential (id and scopes, never the secret), when the entry has it. */
  readonly credential?: { readonly id: string; readonly scopes: readonly string[] };
  /** With `credential`: true when a standing grant answered the login. */
  readonly reused?: boolean;
}

/** Longest scopes string (`g`) an entry keeps: the service chose them, and every entry is kept. */
export const feedScopesMaxLength = 1_000;

/**
 * A credential's scopes as a feed entry keeps them (`g`): space-separated, which no scope
 * token contains (RFC 6749 §3.3). Undefined for scopes that would not split back the same, or
 * longer than `feedScopesMaxLength` (then the entry carries no credential, and the agent
 * reads the handoff as before).
 */
export function feedScopes(scopes: readonly string[]): string | undefined {
  const joined = scopes.join(' ');
  if (joined.length > feedScopesMaxLength) return undefined;
  return scopes.every((s) => s.length > 0 && !/\s/.test(s)) ? joined : undefined;
}

export interface FeedPage {
  /** Entries after the position asked for, oldest first. */
  readonly entries: readonly FeedEntry[];
  /** True when entries between the position asked for and the first one returned were trimmed. */
  readonly gap: boolean;
}

export interface AgentFeed {
  /** Up to `limit` entries of `agentId`'s feed after stream id `after` (`0-0`: from the oldest kept). */
  read(agentId: string, after: string, limit: number): Promise<FeedPage>;
}

/** The start of every feed, before its first entry. */
export const feedStart = '0-0';

/** Orders two stream ids (`<ms>-<seq>`): negative, 0 or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

function fieldsOf(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) out[raw[i]!] = raw[i + 1]!;
  return out;
}

export function createAgentFeed(deps: { redis: Redis; keys: Keys }): AgentFeed {
  return {
    async read(agentId, after, limit) {
      // `(` makes the range exclusive: entries strictly after the cursor.
      const rows = await deps.redis.xrange(deps.keys.agentFeed(agentId), `(${after}`, '+', 'COUNT', limit);
      const entries: FeedEntry[] = [];
      let gap = false;
      for (const [id, raw] of rows) {
        const f = fieldsOf(raw);
        if (entries.length === 0 && f.p && compareStreamIds(f.p, after) > 0) gap = true;
        entries.push({
          id,
          handoffId: f.h ?? '',
          status: (f.s ?? 'failed') as TerminalStatus,
          endedAt: Number(f.t ?? 0),
          ...(f.e ? { errorCode: f.e } : {}),
          ...(f.c ? { credential: { id: f.c, scopes: f.g ? f.g.split(' ') : [] }, reused: f.r === '1' } : {}),
        });
      }
      return { entries, gap };
    },
  };
}
