/**
 * The HTTP load for the Slack inbound figure, as a process of its own so the bridge's event
 * loop is not also the load generator's: `node --import tsx bench/slack-http-load.ts` with
 * SLACK_LOAD = {"url","secret","count","concurrency"}. Prints {"ms", "statuses"} as one JSON
 * line and exits.
 */
import { eventPoster, pool, signedEvents } from './slack-load.js';

const { url, secret, count, concurrency } = JSON.parse(process.env.SLACK_LOAD ?? '{}') as {
  url: string;
  secret: string;
  count: number;
  concurrency: number;
};
const events = signedEvents(count, secret, 'http');
const poster = eventPoster(url, concurrency);
const statuses: Record<number, number> = {};
const ms = await pool(events, concurrency, async (event) => {
  const status = await poster.post(event);
  statuses[status] = (statuses[status] ?? 0) + 1;
});
poster.close();
process.stdout.write(`${JSON.stringify({ ms, statuses })}\n`);
