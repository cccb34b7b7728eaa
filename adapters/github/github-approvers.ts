import type { GithubPermission } from './github-config.js';
import { BadInputError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { people, say, value } from '../../src/core/sentence.js';
import type { ApproverVerdict, Person } from '../../src/core/thread-adapter.js';
import type { GithubClients } from './github-client.js';
import { githubError, isGithubHttpError, rateLimitWaitMs, statusOf } from './github-errors.js';
import type { GithubThread } from './github-thread.js';

/**
 * Who may answer in a GitHub thread: the approvers named in the request (GitHub logins), or,
 * when none are named, people with at least the configured permission on the repository
 * (write by default). Permission is confirmed with GET /repos/{o}/{r}/collaborators/{login}/
 * permission; a comment's `author_association` is only a hint and is never trusted.
 */
const rank: Record<string, number> = { none: 0, read: 1, pull: 1, triage: 2, write: 3, push: 3, maintain: 4, admin: 5 };

const normalise = (login: string) => login.trim().replace(/^@/, '').toLowerCase();

export interface GithubApprovers {
  check(thread: GithubThread, author: Person, named: readonly string[]): Promise<ApproverVerdict>;
  resolve(thread: GithubThread, handle: string): Promise<Person>;
}

export function createGithubApprovers(deps: {
  clients: GithubClients;
  permission: GithubPermission;
  now: () => number;
  logger: Logger;
}): GithubApprovers {
  const { clients, permission, now } = deps;
  const required = rank[permission]!;

  return {
    async check(thread, author, named) {
      const login = normalise(author.id);
      if (named.length > 0) {
        const allowed = named.some((name) => normalise(name) === login);
        return allowed ? { allowed } : { allowed, reason: say`Only ${people(named)} may answer.` };
      }
      const repo = value(`${thread.owner}/${thread.repo}`);
      const refusal = { allowed: false, reason: say`Only people with ${[permission]} access to ${repo} may answer.` };
      const { octokit } = await clients.forRepo(thread.owner, thread.repo);
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
          owner: thread.owner,
          repo: thread.repo,
          username: login,
        });
        // `role_name` knows triage and maintain; custom roles fall back to the legacy `permission`.
        const granted = Math.max(rank[data.role_name ?? ''] ?? 0, rank[data.permission] ?? 0);
        return granted >= required ? { allowed: true } : refusal;
      } catch (err) {
        if (statusOf(err) === 404) return refusal; // not a collaborator, or no such user
        if (isGithubHttpError(err) && err.status === 403 && rateLimitWaitMs(err, now()) === undefined) {
          deps.logger.warn('github: may not read collaborator permissions; refusing the answer', {
            repo: `${thread.owner}/${thread.repo}`,
          });
          return {
            allowed: false,
            reason: say`The bridge could not confirm ${[permission]} access to ${repo} (it may not read collaborator permissions).`,
          };
        }
        throw githubError(err, `check ${login}'s permission on ${thread.owner}/${thread.repo}`, now());
      }
    },

    async resolve(thread, handle) {
      const login = handle.trim().replace(/^@/, '');
      if (!/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(login)) {
        throw new BadInputError(
          `approver "${handle.slice(0, 80)}" is not a GitHub login; name approvers by login, e.g. "octocat".`,
          {
            code: 'unknown_approver',
            details: { field: 'approvers' },
          },
        );
      }
      const { octokit } = await clients.forRepo(thread.owner, thread.repo);
      try {
        const { data } = await octokit.rest.users.getByUsername({ username: login });
        // The public profile email, when the person shows one (GitHub shows only verified ones).
        return {
          id: data.login,
          name: data.login,
          ...(typeof data.email === 'string' && data.email ? { email: data.email } : {}),
        };
      } catch (err) {
        if (statusOf(err) === 404) {
          throw new BadInputError(`approver "${login}" is not a GitHub login.`, {
            code: 'unknown_approver',
            details: { field: 'approvers' },
          });
        }
        throw githubError(err, `look up the GitHub login ${login}`, now());
      }
    },
  };
}
