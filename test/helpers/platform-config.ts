import type { GithubConfig } from '../../adapters/github/github-config.js';
import type { LinearConfig } from '../../adapters/linear/linear-config.js';
import type { SlackConfig } from '../../adapters/slack/slack-config.js';
import type { Config } from '../../src/core/config.js';
import { loadHandoffConfig } from '../../src/main.js';

/** What a configured platform read from the environment (undefined when it is not configured). */
export function settingsOf<T>(config: Config, name: string): T | undefined {
  return config.platforms.find((p) => p.name === name)?.settings as T | undefined;
}

/** The config with each real platform's settings under its name, as tests read them. */
export function withPlatformSettings(
  config: Config,
): Config & { slack?: SlackConfig; github?: GithubConfig; linear?: LinearConfig } {
  return {
    ...config,
    slack: settingsOf<SlackConfig>(config, 'slack'),
    github: settingsOf<GithubConfig>(config, 'github'),
    linear: settingsOf<LinearConfig>(config, 'linear'),
  };
}

/** loadConfig with every registered platform, the settings under their names. */
export const loadPlatformConfig = (env: Readonly<Record<string, string | undefined>>) =>
  withPlatformSettings(loadHandoffConfig(env));
