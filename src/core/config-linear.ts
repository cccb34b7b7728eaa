/**
 * Linear variables of the configuration schema (merged into the one schema in config.ts).
 * Filled in by issue #6; until then Linear is never configured.
 */
export const linearEnv = {};

export interface LinearConfig {}

export function linearConfigFrom(_env: Readonly<Record<string, unknown>>): LinearConfig | undefined {
  return undefined;
}
