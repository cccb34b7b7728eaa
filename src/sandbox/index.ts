import { systemClock } from '../core/clock.js';
import { html, json, type Route, type RouteRequest } from '../core/http-route.js';
import { escapeHtml, htmlPage } from '../core/html.js';
import { agentSessionsRoutes } from './agent-sessions-routes.js';
import { approvalPageRoutes } from './approval-page-routes.js';
import { authMdRoutes } from './authmd-routes.js';
import { AuthMdState } from './authmd-state.js';
import { AuthMdLinesState } from './authmd-lines-state.js';
import { authMdLinesRoutes } from './authmd-lines-routes.js';
import { cibaDevicePageRoutes } from './ciba-device-page-routes.js';
import { cibaRoutes } from './ciba-routes.js';
import { CibaState } from './ciba-state.js';
import { claimPageRoutes } from './claim-page-routes.js';
import { devicePageRoutes } from './device-page-routes.js';
import { deviceRoutes, revocationRoute, userinfoRoute } from './device-routes.js';
import { DeviceState } from './device-state.js';
import { SandboxFaults } from './faults.js';
import { bearerChallenge, laterTypes, metadataRoutes } from './metadata-routes.js';
import { protectedApiRoutes } from './protected-api-routes.js';
import {
  SandboxState,
  type AuthMdRegistrationType,
  type SandboxOptions,
  type SandboxProtocol,
} from './sandbox-state.js';

export {
  SandboxState,
  type SandboxOptions,
  type SandboxProtocol,
  type AuthMdRegistrationType,
} from './sandbox-state.js';
export type { FaultKind } from './faults.js';

/**
 * A local service that speaks the login protocols, mounted under a base path outside
 * production. It is what the demo and the tests log in to. Several instances can share one
 * server at different bases, each speaking a different set of protocols (which is how the
 * tests show discovery choosing). `state`, `authmd`, `device` and `faults` are exposed so
 * tests can count calls and inject trouble; everything a person does goes through HTTP.
 */
export interface Sandbox {
  readonly routes: readonly Route[];
  /** Sessions, agent-sessions login requests and the calls received. */
  readonly state: SandboxState;
  readonly authmd: AuthMdState;
  /** auth.md's polling (`variant: '0.6'`) or read-back (`'0.7'`) line, when this instance speaks one. */
  readonly authmdLines: AuthMdLinesState | undefined;
  readonly device: DeviceState;
  readonly ciba: CibaState;
  readonly faults: SandboxFaults;
  /** Path prefix the routes are mounted under. */
  readonly base: string;
  /** The login protocols this instance speaks. */
  readonly protocols: readonly SandboxProtocol[];
}

/** One sandbox to mount: its base path and how it differs from the defaults. */
export interface SandboxMount {
  /** Path prefix, e.g. `/sandbox/authmd`. */
  readonly base: string;
  /** What differs from the defaults (name, protocols, lifetimes). */
  readonly options: Partial<SandboxOptions>;
}

const allAuthMdTypes: readonly AuthMdRegistrationType[] = ['user_claimed', 'identity_assertion', 'anonymous'];

/** API clients (Accept: JSON) get the 401 challenge a real API root answers; browsers a page. */
function wantsJson(req: RouteRequest): boolean {
  const accept = req.headers.accept ?? '';
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

export function createSandbox(options: Partial<SandboxOptions> = {}, base = '/sandbox'): Sandbox {
  const state = new SandboxState({ clock: systemClock, ...options });
  const authmd = new AuthMdState(state);
  const device = new DeviceState(state);
  const ciba = new CibaState(state);
  const faults = new SandboxFaults();
  const serviceName = options.serviceName ?? 'Sandbox Analytics';
  const protocols = options.protocols ?? ['agent-sessions'];
  const authmdTypes = options.authmdTypes ?? allAuthMdTypes;
  const withMetadata = options.metadata ?? true;
  const line = options.variant === '0.6' || options.variant === '0.7' ? options.variant : undefined;
  const authmdLines = line && protocols.includes('authmd') ? new AuthMdLinesState(state, line) : undefined;

  const home: Route = {
    method: 'GET',
    path: base,
    handler: async (req) => {
      if (wantsJson(req)) {
        return json(
          401,
          { error: 'unauthorized', message: 'This API needs a bearer token.' },
          { 'www-authenticate': bearerChallenge(req, base, withMetadata) },
        );
      }
      return html(
        200,
        htmlPage(
          serviceName,
          `<h1>${escapeHtml(serviceName)}</h1><p>A local stand-in service for trying handoff. It speaks ${protocols.map(escapeHtml).join(', ')} and protects <code>${escapeHtml(base)}/api/me</code>.</p>${
            protocols.includes('ciba')
              ? `<p>CIBA logins ask a person on their own device: <a href="${escapeHtml(base)}/phone">open the stand-in device</a>.</p>`
              : ''
          }`,
        ),
      );
    },
  };

  const routes: Route[] = [home, ...protectedApiRoutes(state, base, withMetadata)];
  const identifiesApprover = options.identifiesApprover ?? true;
  if (withMetadata)
    routes.push(...metadataRoutes({ base, serviceName, protocols, authmdTypes, identifiesApprover, authmdLine: line }));
  if (protocols.includes('agent-sessions'))
    routes.push(...agentSessionsRoutes(state, base), ...approvalPageRoutes(state, base, serviceName));
  if (authmdLines) routes.push(...authMdLinesRoutes(authmdLines, base, serviceName, laterTypes(authmdTypes)));
  else if (protocols.includes('authmd'))
    routes.push(...authMdRoutes(authmd, base, authmdTypes), ...claimPageRoutes(authmd, base, serviceName));
  if (protocols.includes('device')) {
    routes.push(...deviceRoutes(device, state, base), ...devicePageRoutes(device, base, serviceName));
  }
  if (protocols.includes('ciba'))
    routes.push(...cibaRoutes(ciba, state, base), ...cibaDevicePageRoutes(ciba, base, serviceName));
  const oauth = protocols.includes('device') || protocols.includes('ciba');
  if (oauth && identifiesApprover) routes.push(userinfoRoute(state, base));
  if (protocols.includes('authmd') || oauth) routes.push(revocationRoute(state, base));

  return {
    base,
    state,
    authmd,
    authmdLines,
    device,
    ciba,
    faults,
    protocols,
    routes: routes.map((route) => ({
      ...route,
      handler: async (req: RouteRequest) => {
        state.recordCall(route.path, req.headers);
        const path = route.path.startsWith(`${base}/`) ? route.path.slice(base.length) : route.path;
        const delayMs = faults.takeDelay(path);
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        return faults.take(path) ?? route.handler(req);
      },
    })),
  };
}
