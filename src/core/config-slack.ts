/**
 * Slack variables of the configuration schema (merged into the one schema in config.ts).
 * Filled in by issue #4; until then Slack is never configured.
 */
export const slackEnv = {};

export interface SlackConfig {}

export function slackConfigFrom(_env: Readonly<Record<string, unknown>>): SlackConfig | undefined {
  return undefined;
}
