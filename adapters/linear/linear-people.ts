import { BadInputError } from '../../src/core/errors.js';
import type { ApproverVerdict, Person } from '../../src/core/thread-adapter.js';
import type { LinearApi, LinearIssueInfo, LinearUserInfo } from './linear-api.js';
import { describeApproverLine, type ApproverLine } from './linear-format.js';
import { uuidPattern, type LinearThread } from './linear-thread.js';

/**
 * People on Linear: turning an approver handle into a user, display names for messages,
 * and the rule for who may answer — the named approvers (Linear user ids), or when none are
 * named, the issue's assignee and creator as they are when the reply arrives.
 */
export interface LinearPeople {
  /** A Linear user id, an email or a display name (with or without `@`) → the user, with email. */
  resolve(handle: string): Promise<Person>;
  /** Display names of these user ids (unknown ids map to themselves). Cached for a while. */
  names(ids: readonly string[]): Promise<Map<string, string>>;
  check(thread: LinearThread, author: Person, named: readonly string[]): Promise<ApproverVerdict>;
  /** Who may answer, for the approval message; `issue` saves a lookup when the caller has it. */
  approverLine(thread: LinearThread, named: readonly string[], issue?: LinearIssueInfo): Promise<ApproverLine>;
}

/** How long a user's display name is reused before it is read again, ms. */
export const nameCacheMs = 10 * 60_000;
const nameCacheSize = 2_000;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const person = (u: LinearUserInfo): Person => ({ id: u.id, name: u.name, ...(u.email ? { email: u.email } : {}) });

export function createLinearPeople(api: LinearApi, now: () => number): LinearPeople {
  const cache = new Map<string, { name: string; until: number }>();

  function remember(users: readonly LinearUserInfo[]): void {
    for (const u of users) {
      cache.delete(u.id);
      cache.set(u.id, { name: u.name, until: now() + nameCacheMs });
    }
    while (cache.size > nameCacheSize) cache.delete(cache.keys().next().value!);
  }

  async function names(ids: readonly string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(ids)];
    const missing = wanted.filter((id) => uuidPattern.test(id) && !((cache.get(id)?.until ?? 0) > now()));
    if (missing.length > 0) {
      try {
        remember(await api.usersByIds(missing));
      } catch {
        // Names are decoration: a message still goes out with ids if Linear cannot say.
      }
    }
    return new Map(wanted.map((id) => [id, cache.get(id)?.name ?? id]));
  }

  async function approverLine(
    thread: LinearThread,
    named: readonly string[],
    issue?: LinearIssueInfo,
  ): Promise<ApproverLine> {
    if (named.length > 0) {
      const known = await names(named);
      return { kind: 'named', names: named.map((id) => known.get(id) ?? id) };
    }
    const info = issue ?? (await api.issue(thread.issue));
    const known = await names([info.assigneeId, info.creatorId].filter((id): id is string => id !== undefined));
    return {
      kind: 'issue_people',
      ...(info.assigneeId ? { assignee: known.get(info.assigneeId) ?? info.assigneeId } : {}),
      ...(info.creatorId ? { creator: known.get(info.creatorId) ?? info.creatorId } : {}),
    };
  }

  return {
    names,
    approverLine,

    async resolve(handle) {
      const h = handle.trim().replace(/^@/, '');
      const found = uuidPattern.test(h)
        ? [await api.user(h.toLowerCase())].filter((u): u is LinearUserInfo => u !== undefined)
        : emailPattern.test(h)
          ? await api.usersByEmail(h)
          : await api.usersByName(h);
      if (found.length !== 1) {
        throw new BadInputError(
          found.length === 0
            ? `No Linear user matches approver "${h.slice(0, 80)}"; name approvers by Linear user id, email or display name.`
            : `More than one Linear user matches approver "${h.slice(0, 80)}"; name the approver by Linear user id or email.`,
          { code: found.length === 0 ? 'approver_not_found' : 'approver_ambiguous', details: { field: 'approvers' } },
        );
      }
      remember(found);
      return person(found[0]!);
    },

    async check(thread, author, named) {
      const id = author.id.toLowerCase();
      if (named.length > 0) {
        if (named.some((n) => n.toLowerCase() === id)) return { allowed: true };
        return { allowed: false, reason: describeApproverLine(await approverLine(thread, named)) };
      }
      // The rule is checked against the issue as it is now: reassigning it hands over the answer.
      const issue = await api.issue(thread.issue);
      if (author.id === issue.assigneeId || author.id === issue.creatorId) return { allowed: true };
      return { allowed: false, reason: describeApproverLine(await approverLine(thread, named, issue)) };
    },
  };
}
