import { BadInputError } from '../../src/core/errors.js';
import { bodyForm, json, requireJsonObject, type Route, type RouteRequest } from '../../src/core/http-route.js';
import type { Logger } from '../../src/core/logger.js';
import type { SlackInbound } from './slack-inbound.js';
import { verifySlackSignature } from './slack-signature.js';

/**
 * The Events API on the bridge's own HTTP server (Bolt never owns a port here): Slack POSTs
 * events to /slack/events and button clicks and modal submissions to /slack/interactivity.
 * Each request is verified (signature and a 5-minute window both ways), parsed, handed on
 * (dedupe and enqueue happen in the sink) and answered — 401 before anything else when the
 * signature is wrong. A 5xx makes Slack deliver the event again; duplicates are harmless.
 */
export const slackEventsPath = '/slack/events';
export const slackInteractivityPath = '/slack/interactivity';

/** Slack's payloads are small; 1 MiB leaves room for long messages with blocks. */
const maxBodyBytes = 1024 * 1024;

function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadInputError('The body is not JSON.', { code: 'invalid_request', details: { field: 'body' } });
  }
}

export function slackRoutes(deps: {
  signingSecret: string;
  inbound: SlackInbound;
  now: () => number;
  logger: Logger;
}): Route[] {
  const verify = (req: RouteRequest) =>
    verifySlackSignature({
      headers: req.headers,
      rawBody: req.rawBody,
      signingSecret: deps.signingSecret,
      nowMs: deps.now(),
    });

  return [
    {
      method: 'POST',
      path: slackEventsPath,
      maxBodyBytes,
      handler: async (req) => {
        verify(req);
        const body = requireJsonObject(parseJsonBody(req.rawBody.toString('utf8')), 'An Events API body');
        // Sent once when the Request URL is saved in the app settings (signed like any event).
        if (body.type === 'url_verification') return json(200, { challenge: String(body.challenge ?? '') });
        if (body.type === 'app_rate_limited') {
          deps.logger.warn('Slack is dropping events for this app (app_rate_limited: over 30,000 events per hour)');
          return { status: 200 };
        }
        await deps.inbound.event(body);
        return { status: 200 };
      },
    },
    {
      method: 'POST',
      path: slackInteractivityPath,
      maxBodyBytes,
      handler: async (req) => {
        verify(req);
        const payload = requireJsonObject(parseJsonBody(bodyForm(req).get('payload') ?? ''), 'An interaction payload');
        const result = await deps.inbound.interaction(payload);
        // Started now, not awaited: the ack must not wait for it, and it must not wait for the ack.
        if (result.afterAck) void result.afterAck();
        return result.response === undefined ? { status: 200 } : json(200, result.response);
      },
    },
  ];
}
