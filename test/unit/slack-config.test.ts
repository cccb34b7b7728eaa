import { describe, expect, it } from 'vitest';
import { loadPlatformConfig as loadConfigAsIs } from '../helpers/platform-config.js';
import { ConfigError } from '../../src/core/errors.js';

/** These tests read settings of a development bridge unless they set NODE_ENV (the default is production). */
const loadConfig = (env: Record<string, string | undefined>) => loadConfigAsIs({ NODE_ENV: 'development', ...env });

const bot = 'xoxb-1111111111-2222222222-AbCdEfGhIjKlMnOpQrStUvWx';
const app = 'xapp-1-A0FAKE0001-3333333333-0123456789abcdef0123456789abcdef';
const secret = '8f742231b10e8888abcd99yyyzzz85a5';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${Object.keys(env).join(', ')}`);
}

describe('Slack configuration', () => {
  it('is absent when no SLACK_ variable is set', () => {
    expect(loadConfig({}).slack).toBeUndefined();
  });

  it('chooses the Events API when the signing secret is set, with private links and the modal on, and no DMs outside the channel', () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret }).slack).toEqual({
      botToken: bot,
      inbound: { mode: 'events', signingSecret: secret },
      apiUrl: undefined,
      privateLinks: true,
      dmOutsideChannel: false,
      codeModal: true,
      outboundPerSecond: 1,
      sharedChannels: 'refuse',
    });
  });

  it('chooses Socket Mode when the app token is set, and reads the switches', () => {
    const slack = loadConfig({
      SLACK_BOT_TOKEN: bot,
      SLACK_APP_TOKEN: app,
      SLACK_API_URL: 'http://127.0.0.1:9999/api/',
      SLACK_PRIVATE_LINKS: 'off',
      SLACK_CODE_MODAL: 'no',
      SLACK_DM_OUTSIDE_CHANNEL: 'on',
      SLACK_OUTBOUND_PER_SECOND: '5',
      SLACK_SHARED_CHANNELS: 'refuse',
    }).slack;
    expect(slack).toEqual({
      botToken: bot,
      inbound: { mode: 'socket', appToken: app },
      apiUrl: 'http://127.0.0.1:9999/api/',
      privateLinks: false,
      dmOutsideChannel: true,
      codeModal: false,
      outboundPerSecond: 5,
      sharedChannels: 'refuse',
    });
  });

  it.each<{ env: Record<string, string>; variable: string; says: string }>([
    {
      env: { SLACK_SIGNING_SECRET: secret },
      variable: 'SLACK_BOT_TOKEN',
      says: 'is required when Slack is configured (SLACK_SIGNING_SECRET is set)',
    },
    { env: { SLACK_BOT_TOKEN: bot }, variable: 'SLACK_SIGNING_SECRET', says: 'or SLACK_APP_TOKEN is required' },
    {
      env: { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_APP_TOKEN: app },
      variable: 'SLACK_APP_TOKEN',
      says: 'exclude each other',
    },
    {
      env: { SLACK_BOT_TOKEN: 'xoxp-1-user-token', SLACK_SIGNING_SECRET: secret },
      variable: 'SLACK_BOT_TOKEN',
      says: 'bot token (xoxb-…)',
    },
    {
      env: { SLACK_BOT_TOKEN: bot, SLACK_APP_TOKEN: bot },
      variable: 'SLACK_APP_TOKEN',
      says: 'app-level token (xapp-…)',
    },
    {
      env: { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: 'short' },
      variable: 'SLACK_SIGNING_SECRET',
      says: 'signing secret',
    },
    {
      env: { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_API_URL: 'slack.com/api' },
      variable: 'SLACK_API_URL',
      says: 'http(s) URL',
    },
    {
      env: { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_PRIVATE_LINKS: 'maybe' },
      variable: 'SLACK_PRIVATE_LINKS',
      says: 'SLACK_PRIVATE_LINKS',
    },
    {
      env: { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_DM_OUTSIDE_CHANNEL: 'sometimes' },
      variable: 'SLACK_DM_OUTSIDE_CHANNEL',
      says: 'SLACK_DM_OUTSIDE_CHANNEL',
    },
    {
      env: { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_OUTBOUND_PER_SECOND: '0' },
      variable: 'SLACK_OUTBOUND_PER_SECOND',
      says: 'whole number from 1 to 50',
    },
    {
      env: { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_SHARED_CHANNELS: 'sometimes' },
      variable: 'SLACK_SHARED_CHANNELS',
      says: 'must be warn or refuse',
    },
  ])('names $variable when it is wrong or missing', ({ env, variable, says }) => {
    const err = configError(env);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toContain(says);
  });

  it('never echoes a token in its errors', () => {
    const err = configError({ SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_APP_TOKEN: app });
    expect(err.message).not.toContain(bot);
    expect(err.message).not.toContain(app);
    expect(err.message).not.toContain(secret);
  });
});
