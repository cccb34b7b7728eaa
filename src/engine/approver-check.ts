import type { HandoffRecord } from '../core/handoff.js';
import type { ApproverVerdict, Person, ThreadAdapter } from '../core/thread-adapter.js';

const norm = (s: string) => s.trim().replace(/^@/, '').toLowerCase();

/** May `author` answer `record`? `adapter` is the record's platform's (resolved by the caller). */
export async function checkApprover(
  adapter: ThreadAdapter,
  record: HandoffRecord,
  author: Person,
): Promise<ApproverVerdict> {
  if (adapter.checkApprover) return adapter.checkApprover(adapter.parseThread(record.thread), author, record.approvers);
  if (record.approvers.length === 0) return { allowed: true };
  const names = new Set(record.approvers.map(norm));
  const allowed = names.has(norm(author.id)) || (author.name !== undefined && names.has(norm(author.name)));
  return { allowed };
}
