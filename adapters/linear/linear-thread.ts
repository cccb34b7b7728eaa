import { invalidThreadRef, type ThreadAddress } from '../../src/core/thread-ref.js';

/**
 * `linear:<ISSUE-KEY>` (`linear:ENG-123`) or `linear:<issue UUID>`: the comments of one Linear
 * issue. Keys are printed upper-case and UUIDs lower-case, so each issue has one canonical
 * ref per form. Linear resolves both forms wherever it takes an issue id.
 */
export interface LinearThread extends ThreadAddress {
  readonly platform: 'linear';
  /** The issue key (`ENG-123`) or UUID, as Linear's `issue(id:)` accepts it. */
  readonly issue: string;
  readonly form: 'key' | 'uuid';
}

/** A team key (letters and digits, starting with a letter), a dash, the issue number. */
const issueKey = /^[A-Za-z][A-Za-z0-9]{0,9}-[1-9][0-9]{0,8}$/;
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseLinearThread(ref: string): LinearThread {
  const match = /^linear:(.+)$/i.exec(ref.trim());
  const rest = match?.[1]?.trim() ?? '';
  if (uuidPattern.test(rest)) {
    const issue = rest.toLowerCase();
    return { platform: 'linear', ref: `linear:${issue}`, issue, form: 'uuid' };
  }
  if (issueKey.test(rest)) {
    const issue = rest.toUpperCase();
    return { platform: 'linear', ref: `linear:${issue}`, issue, form: 'key' };
  }
  throw invalidThreadRef(ref, 'linear:ENG-123');
}

/** The canonical ref of an issue known by UUID. */
export const linearThreadOfUuid = (uuid: string): string => `linear:${uuid.toLowerCase()}`;
