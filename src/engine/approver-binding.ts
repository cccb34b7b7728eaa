import { confirmWindowMs, type HandoffRecord } from '../core/handoff.js';
import type { ApprovedBy } from '../core/login-protocol.js';
import { matchesOriginGlob, parseOriginGlobs } from '../core/origin-glob.js';
import type { Person } from '../core/thread-adapter.js';

/**
 * Binding a login to its approvers. A person's code or "done" in the thread is checked by the
 * approver rule (reply-handler); a result the background poll finds is someone's approval at
 * the service, and counts only when the service names an approver as the account:
 *
 * - `bound`: no approvers are named and anyone in the thread may answer (the result is as
 *   good as a code from anyone there), or the service names an approver's email;
 * - `other`: the service names an account none of the approvers has — refused;
 * - `unknown`: the service names nobody, the approvers have no known email, or the platform's
 *   rule (repository access, issue assignee) cannot be checked against a service account —
 *   held until an approver's word in the thread.
 *
 * Emails only: a subject (`sub`, account id) means something only inside its service, and a
 * username chosen at one service says nothing about who someone is on the platform.
 */
export type ServiceApproval = 'bound' | 'other' | 'unknown';

/** Every email the named approvers are known by: the request's own and the directory's. */
export function approverIdentities(record: Pick<HandoffRecord, 'approverEmail' | 'approverEmails'>): Set<string> {
  const emails = [...(record.approverEmails ?? []), ...(record.approverEmail ? [record.approverEmail] : [])];
  return new Set(emails.map((e) => e.trim().toLowerCase()));
}

export function bindServiceApproval(
  record: Pick<HandoffRecord, 'approvers' | 'approverEmail' | 'approverEmails'>,
  approvedBy: ApprovedBy | undefined,
  unnamedApprovers: 'anyone' | 'platform_rule',
): ServiceApproval {
  if (record.approvers.length === 0) return unnamedApprovers === 'anyone' ? 'bound' : 'unknown';
  const known = approverIdentities(record);
  const email = approvedBy?.email;
  if (!email || known.size === 0) return 'unknown';
  return known.has(email) ? 'bound' : 'other';
}

/** The approver whose recent "done" vouches for the poll result in hand, if the word is still good. */
export function vouchingApprover(
  record: Pick<HandoffRecord, 'confirmedBy' | 'confirmedAt'>,
  now: number,
): string | undefined {
  if (!record.confirmedBy || record.confirmedAt === undefined) return undefined;
  return now - record.confirmedAt <= confirmWindowMs ? record.confirmedBy : undefined;
}

/**
 * The email the service may be sent, and whether a directory email was held back. An email
 * the request named goes; a directory email (the platform resolved `@ceo` to one) goes only
 * when the request named that very email as the approver, or the service's origin is on the
 * operator's allowlist: otherwise any agent could learn anyone's address by naming them
 * approver of a login to its own service.
 */
export function emailForService(
  request: Pick<HandoffRecord, 'approverEmail' | 'approvers' | 'service'>,
  people: readonly Person[],
  allowlist: readonly string[],
): { email?: string; withheld: boolean } {
  if (request.approverEmail) return { email: request.approverEmail, withheld: false };
  const directory = people.length === 1 ? people[0]!.email : undefined;
  if (!directory) return { withheld: false };
  const named =
    request.approvers.length === 1 &&
    request.approvers[0]!.trim().replace(/^@/, '').toLowerCase() === directory.toLowerCase();
  const globs = parseOriginGlobs(allowlist, 'subdomains');
  return named || matchesOriginGlob(globs, request.service)
    ? { email: directory, withheld: false }
    : { withheld: true };
}

/**
 * Whether `email` is what the platform directory says about the one named approver (so the
 * person who must answer in the thread is that account's owner), not only the agent's word.
 */
export function directoryVouchesFor(people: readonly Person[], email: string | undefined): boolean {
  const directory = people.length === 1 ? people[0]!.email?.trim().toLowerCase() : undefined;
  return Boolean(email && directory && email.trim().toLowerCase() === directory);
}

/**
 * An email as the thread may show it: the first character of the local part and the domain,
 * `m***@evil.example`. It is the service's (so possibly an attacker's) text: the domain is
 * kept only when it is plain host characters.
 */
export function maskedEmail(email: string | undefined): string | undefined {
  if (!email) return undefined;
  const at = email.lastIndexOf('@');
  const first = email.slice(0, 1);
  const domain = email.slice(at + 1);
  if (at < 1 || !/^[a-z0-9](?:[a-z0-9.-]{0,98}[a-z0-9])?$/.test(domain)) return undefined;
  return `${/[a-z0-9]/i.test(first) ? first : '*'}***@${domain}`;
}
