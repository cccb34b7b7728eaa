import { BadInputError } from '../../src/core/errors.js';
import { invalidThreadRef, type ThreadAddress } from '../../src/core/thread-ref.js';

/**
 * `github:<owner>/<repo>#<number>`: an issue or a pull request (GitHub numbers both in one
 * sequence and comments on both through the issues API). Owner and repository names are
 * case-insensitive on GitHub, so the canonical ref is lower-case.
 */
export interface GithubThread extends ThreadAddress {
  readonly platform: 'github';
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
}

const example = 'github:octo-org/app#42';
// Logins and organisation names: letters, digits and single hyphens, up to 39 characters.
const ownerPattern = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/;
const repoPattern = /^[a-z0-9._-]{1,100}$/;

export function parseGithubThread(ref: string): GithubThread {
  const match = /^github:([^/\s]+)\/([^#\s]+)#(\d{1,10})$/i.exec(ref.trim());
  if (!match) throw invalidThreadRef(ref, example);
  const owner = match[1]!.toLowerCase();
  const repo = match[2]!.toLowerCase();
  const number = Number(match[3]);
  if (!ownerPattern.test(owner) || !repoPattern.test(repo) || repo === '.' || repo === '..' || number < 1)
    throw invalidThreadRef(ref, example);
  return { platform: 'github', ref: githubThreadRef(owner, repo, number), owner, repo, number };
}

/** The canonical ref of an issue or pull request. */
export function githubThreadRef(owner: string, repo: string, number: number): string {
  return `github:${owner.toLowerCase()}/${repo.toLowerCase()}#${number}`;
}

/** `owner/repo` of a thread: the scope one poll covers. */
export const repoScope = (thread: Pick<GithubThread, 'owner' | 'repo'>): string => `${thread.owner}/${thread.repo}`;

/**
 * Message ids: the comment id, or `<comment id>@<updated_at ms>` for an edit accepted as a new
 * answer (so the edit is not deduplicated against the comment it changed).
 */
export function commentIdOf(messageId: string): number {
  const id = Number(messageId.split('@')[0]);
  if (!Number.isSafeInteger(id) || id < 1)
    throw new BadInputError(`"${messageId.slice(0, 40)}" is not a GitHub comment id.`, { code: 'invalid_message_ref' });
  return id;
}

export function editMessageId(commentId: number, updatedAt: string): string {
  return `${commentId}@${Date.parse(updatedAt)}`;
}
