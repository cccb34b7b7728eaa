import type { Logger } from '../../src/core/logger.js';
import type { MessageRef, RedactOutcome } from '../../src/core/thread-adapter.js';
import type { GithubClients, RepoClient } from './github-client.js';
import { githubError, isGithubHttpError, rateLimitWaitMs, statusOf } from './github-errors.js';
import { renderGithubText } from './github-format.js';
import { commentIdOf, parseGithubThread, type GithubThread } from './github-thread.js';

/**
 * Removing a comment whose finish code is spent. Only deleting truly removes it (GitHub keeps
 * an edited comment's history, and a minimized one still opens with a click), so the bridge
 * deletes (`DELETE /repos/{o}/{r}/issues/comments/{id}`). Where its token may not, it
 * minimizes the comment with GraphQL `minimizeComment(classifier: RESOLVED)` and says so in
 * the thread, since the engine's completion notice has already said "removed".
 */
export const minimizedNotice =
  'The comment with the finish code could not be deleted by the bridge (it lacks permission), so it was hidden as resolved instead. ' +
  'The code is spent and cannot be used again; someone with write access can delete the comment.';
export const notRemovedNotice =
  'The bridge could neither delete nor hide the comment with the finish code. The code is spent and cannot be used again; delete the comment to tidy up.';

const minimizeMutation = `mutation($id: ID!) {
  minimizeComment(input: { subjectId: $id, classifier: RESOLVED }) { minimizedComment { isMinimized } }
}`;

/** A refusal (403 that is not a rate limit, or 404/422): try the next way instead. */
function isRefusal(err: unknown, now: number): boolean {
  if (!isGithubHttpError(err)) return false;
  if (err.status === 403) return rateLimitWaitMs(err, now) === undefined;
  return err.status === 401 || err.status === 422;
}

async function minimize(
  client: RepoClient,
  thread: GithubThread,
  commentId: number,
  now: () => number,
): Promise<boolean> {
  try {
    const { data } = await client.octokit.rest.issues.getComment({
      owner: thread.owner,
      repo: thread.repo,
      comment_id: commentId,
    });
    const result = await client.octokit.graphql<{ minimizeComment?: { minimizedComment?: { isMinimized?: boolean } } }>(
      minimizeMutation,
      { id: data.node_id },
    );
    return result.minimizeComment?.minimizedComment?.isMinimized === true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    // GraphQL answers a refused mutation with 200 and `errors` (GraphqlResponseError, no status).
    if (err instanceof Error && err.name === 'GraphqlResponseError') return false;
    if (isRefusal(err, now())) return false;
    throw githubError(err, `hide comment ${commentId} in ${thread.owner}/${thread.repo}`, now());
  }
}

export function createGithubRedaction(deps: {
  clients: GithubClients;
  now: () => number;
  logger: Logger;
}): (msg: MessageRef) => Promise<RedactOutcome> {
  const { clients, now } = deps;

  return async function redact(msg) {
    const thread = parseGithubThread(msg.thread);
    const commentId = commentIdOf(msg.id);
    const client = await clients.forRepo(thread.owner, thread.repo);
    try {
      await client.octokit.rest.issues.deleteComment({ owner: thread.owner, repo: thread.repo, comment_id: commentId });
      return 'deleted';
    } catch (err) {
      if (statusOf(err) === 404) return 'deleted'; // already gone (its author deleted it)
      if (!isRefusal(err, now()))
        throw githubError(err, `delete comment ${commentId} in ${thread.owner}/${thread.repo}`, now());
      deps.logger.warn('github: may not delete the comment with a spent code; hiding it instead', {
        thread: thread.ref,
        status: statusOf(err),
      });
    }
    const hidden = await minimize(client, thread, commentId, now);
    try {
      await client.octokit.rest.issues.createComment({
        owner: thread.owner,
        repo: thread.repo,
        issue_number: thread.number,
        body: renderGithubText(hidden ? minimizedNotice : notRemovedNotice),
      });
    } catch (err) {
      throw githubError(err, `post to ${thread.ref}`, now());
    }
    return hidden ? 'hidden' : 'unsupported';
  };
}
