/**
 * Github variables of the configuration schema (merged into the one schema in config.ts).
 * Filled in by issue #5; until then Github is never configured.
 */
export const githubEnv = {};

export interface GithubConfig {}

export function githubConfigFrom(_env: Readonly<Record<string, unknown>>): GithubConfig | undefined {
  return undefined;
}
