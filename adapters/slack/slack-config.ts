import { z } from 'zod';
import { flag, optionalText } from '../../src/core/config-fields.js';
import { ConfigError } from '../../src/core/errors.js';

/**
 * Slack variables of the configuration schema (merged into the one schema in config.ts).
 * Slack is configured when any of them is set; then SLACK_BOT_TOKEN and exactly one way in
 * (SLACK_SIGNING_SECRET for the Events API over HTTP, SLACK_APP_TOKEN for Socket Mode) are
 * required.
 */
export const slackEnv = {
  SLACK_BOT_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(
        /^xoxb-[A-Za-z0-9-]+$/,
        'must be the bot token (xoxb-…) from OAuth & Permissions in the Slack app settings',
      )
      .optional(),
  ),
  SLACK_SIGNING_SECRET: optionalText.pipe(
    z
      .string()
      .regex(
        /^[A-Za-z0-9]{16,128}$/,
        'must be the signing secret from Basic Information → App Credentials in the Slack app settings',
      )
      .optional(),
  ),
  SLACK_APP_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(
        /^xapp-[A-Za-z0-9-]+$/,
        'must be an app-level token (xapp-…) with the connections:write scope, from Basic Information → App-Level Tokens',
      )
      .optional(),
  ),
  SLACK_API_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://slack.com/api/' }).optional(),
  ),
  SLACK_PRIVATE_LINKS: flag.optional(),
  SLACK_CODE_MODAL: flag.optional(),
  SLACK_DM_OUTSIDE_CHANNEL: flag.optional(),
  SLACK_SHARED_CHANNELS: optionalText.pipe(z.enum(['warn', 'refuse'], { error: 'must be warn or refuse' }).optional()),
  SLACK_OUTBOUND_PER_SECOND: z.coerce
    .number({ error: 'must be a whole number from 1 to 50' })
    .int('must be a whole number from 1 to 50')
    .min(1, 'must be a whole number from 1 to 50')
    .max(50, 'must be a whole number from 1 to 50')
    .optional(),
};

/** How Slack events reach the bridge. The two exclude each other. */
export type SlackInboundConfig =
  /** Events API: Slack POSTs signed events to /slack/events and /slack/interactivity. */
  | { readonly mode: 'events'; readonly signingSecret: string }
  /** Socket Mode: the bridge's workers open a WebSocket to Slack; no public URL needed. */
  | { readonly mode: 'socket'; readonly appToken: string };

export interface SlackConfig {
  /** Bot token (`xoxb-…`) for the Web API. */
  readonly botToken: string;
  readonly inbound: SlackInboundConfig;
  /** Web API base URL; undefined = Slack's own (https://slack.com/api/). */
  readonly apiUrl: string | undefined;
  /** Send the approval link to named approvers only (chat.postEphemeral). Default on. */
  readonly privateLinks: boolean;
  /**
   * Send the approval link as a direct message to a named approver who is not in the thread's
   * channel. Default off: an agent could otherwise have the app DM a link to anyone in the
   * workspace; instead the handoff fails with `approver_not_in_channel`.
   */
  readonly dmOutsideChannel: boolean;
  /** Offer a "Paste finish code" button that opens a modal. Default on. */
  readonly codeModal: boolean;
  /** Outbound Slack calls per second across the bridge (Slack: ~1 message/s per channel). Default 1. */
  readonly outboundPerSecond: number;
  /**
   * Threads in channels shared with another organization (Slack Connect): refuse
   * (`public_thread`), or post the approval with a warning. Default refuse.
   */
  readonly sharedChannels: 'warn' | 'refuse';
}

const names = Object.keys(slackEnv);

function invalid(variable: string, message: string): ConfigError {
  return new ConfigError(variable, `Invalid configuration:\n  - ${variable} ${message}`);
}

export function slackConfigFrom(env: Readonly<Record<string, unknown>>): SlackConfig | undefined {
  if (!names.some((name) => env[name] !== undefined)) return undefined;
  const botToken = env.SLACK_BOT_TOKEN as string | undefined;
  const signingSecret = env.SLACK_SIGNING_SECRET as string | undefined;
  const appToken = env.SLACK_APP_TOKEN as string | undefined;
  if (!botToken) {
    const set = names.filter((name) => env[name] !== undefined).join(', ');
    throw invalid(
      'SLACK_BOT_TOKEN',
      `is required when Slack is configured (${set} is set): the bot token (xoxb-…) from OAuth & Permissions.`,
    );
  }
  if (signingSecret && appToken) {
    throw invalid(
      'SLACK_APP_TOKEN',
      'and SLACK_SIGNING_SECRET exclude each other: set SLACK_SIGNING_SECRET to receive events over HTTP at POST /slack/events, or SLACK_APP_TOKEN for Socket Mode, not both.',
    );
  }
  if (!signingSecret && !appToken) {
    throw invalid(
      'SLACK_SIGNING_SECRET',
      'or SLACK_APP_TOKEN is required with SLACK_BOT_TOKEN: the signing secret to receive events over HTTP at POST /slack/events, or an app-level token (xapp-…) for Socket Mode.',
    );
  }
  return {
    botToken,
    inbound: signingSecret ? { mode: 'events', signingSecret } : { mode: 'socket', appToken: appToken! },
    apiUrl: env.SLACK_API_URL as string | undefined,
    privateLinks: (env.SLACK_PRIVATE_LINKS as boolean | undefined) ?? true,
    codeModal: (env.SLACK_CODE_MODAL as boolean | undefined) ?? true,
    dmOutsideChannel: (env.SLACK_DM_OUTSIDE_CHANNEL as boolean | undefined) ?? false,
    outboundPerSecond: (env.SLACK_OUTBOUND_PER_SECOND as number | undefined) ?? 1,
    sharedChannels: (env.SLACK_SHARED_CHANNELS as 'warn' | 'refuse' | undefined) ?? 'refuse',
  };
}
