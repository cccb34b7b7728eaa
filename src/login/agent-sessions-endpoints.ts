import { servicePath } from './discovered-url.js';

/**
 * Where agent sessions are spoken (docs/protocols.md, "Agent sessions"): fixed paths under the
 * service's URL, built so that nothing in them can become a query or fragment (agent sessions
 * publish no metadata, so there is no URL of the service's to check), and how a refusal or an
 * unreadable answer from them reads: the origin and the status, never the service's text.
 */

/** `<service>/agent-sessions/<path>`. */
export function endpoint(service: string, path: string): string {
  return servicePath(service, 'agent-sessions', path);
}
