import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/core/logger.js';
import { callSlack, slackErrorCode } from './slack-errors.js';

/**
 * Slack Connect: a channel shared with another organization (`is_ext_shared`, or with the
 * invitation still pending, `is_pending_ext_shared`) is read by people outside the workspace,
 * so the engine treats its threads as it treats a public repository (a warning with the link,
 * or a refusal with SLACK_SHARED_CHANNELS=refuse). A channel shared only inside an Enterprise
 * Grid org (`is_org_shared`) stays internal. Without the channels:read / groups:read scope
 * the bridge cannot tell: it says so once and treats channels as internal.
 */
export interface SlackSharing {
  isExternallyShared(channel: string): Promise<boolean>;
}

interface ChannelFlags {
  readonly is_ext_shared?: boolean;
  readonly is_pending_ext_shared?: boolean;
}

export function createSlackSharing(deps: { client: WebClient; logger: Logger }): SlackSharing {
  let scopeWarned = false;
  return {
    async isExternallyShared(channel) {
      try {
        const res = await callSlack('conversations.info', () => deps.client.conversations.info({ channel }));
        const flags = (res.channel ?? {}) as ChannelFlags;
        return flags.is_ext_shared === true || flags.is_pending_ext_shared === true;
      } catch (err) {
        if (slackErrorCode(err) !== 'missing_scope') throw err;
        if (!scopeWarned) {
          scopeWarned = true;
          deps.logger.warn('cannot tell whether Slack channels are shared with other organizations: add the channels:read and groups:read scopes to the Slack app', {
            error: err,
          });
        }
        return false;
      }
    },
  };
}
