import { systemClock } from '../core/clock.js';
import { html, type Route } from '../core/http-route.js';
import { escapeHtml, htmlPage } from '../core/html.js';
import { agentSessionsRoutes } from './agent-sessions-routes.js';
import { approvalPageRoutes } from './approval-page-routes.js';
import { protectedApiRoutes } from './protected-api-routes.js';
import { SandboxState, type SandboxOptions } from './sandbox-state.js';

export { SandboxState, type SandboxOptions } from './sandbox-state.js';

/**
 * A local service that speaks the login protocols, mounted at `/sandbox` outside production.
 * It is what the demo and the tests log in to. `state` is exposed so tests can count
 * exchanges; everything a person does goes through the HTTP routes.
 */
export interface Sandbox {
  readonly routes: readonly Route[];
  readonly state: SandboxState;
  /** Path prefix the routes are mounted under. */
  readonly base: string;
}

export function createSandbox(options: Partial<SandboxOptions> = {}, base = '/sandbox'): Sandbox {
  const state = new SandboxState({ clock: systemClock, ...options });
  const serviceName = options.serviceName ?? 'Sandbox Analytics';
  const home: Route = {
    method: 'GET',
    path: base,
    handler: async () =>
      html(
        200,
        htmlPage(
          serviceName,
          `<h1>${escapeHtml(serviceName)}</h1><p>A local stand-in service for trying handoff. It speaks agent sessions at
<code>${base}/agent-sessions/*</code> and protects <code>${base}/api/me</code>.</p>`,
        ),
      ),
  };
  return {
    base,
    state,
    routes: [home, ...agentSessionsRoutes(state, base), ...approvalPageRoutes(state, base, serviceName), ...protectedApiRoutes(state, base)],
  };
}
