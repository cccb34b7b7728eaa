import { describeDuration } from '../core/clock.js';
import { bodyForm, html, type Route } from '../core/http-route.js';
import { escapeHtml, htmlPage } from '../core/html.js';
import { signInForm } from './sign-in-form.js';
import type { SandboxState } from './sandbox-state.js';

/**
 * The browser side of the sandbox: the page a person reaches from the approval link. They
 * "sign in" (type an email: there is no real identity provider here), approve or deny, and
 * the page shows the finish code to paste back into the thread.
 */
export function approvalPageRoutes(state: SandboxState, base: string, serviceName: string): Route[] {
  const notFound = html(
    404,
    htmlPage('Not found', `<h1>${escapeHtml(serviceName)}</h1><p>This login request does not exist.</p>`),
  );

  return [
    {
      method: 'GET',
      path: `${base}/authorize/:id`,
      handler: async (req) => {
        const found = state.requests.get(req.params.id ?? '');
        if (!found) return notFound;
        const status = state.statusOf(found);
        if (status === 'approved' && found.exchangeCode)
          return html(200, finishCodePage(serviceName, found.exchangeCode));
        if (status !== 'pending') {
          return html(
            410,
            htmlPage(
              'Login request closed',
              `<h1>${escapeHtml(serviceName)}</h1><p id="status">This login request is ${status}.</p>`,
            ),
          );
        }
        const left = describeDuration(found.expiresAt - state.options.clock.now());
        return html(
          200,
          htmlPage(
            `Approve ${found.clientName}`,
            `<h1>${escapeHtml(serviceName)}</h1>
<div class="card">
<p><strong>${escapeHtml(found.clientName)}</strong> asks for an agent session${found.label ? ` (“${escapeHtml(found.label)}”)` : ''}.</p>
<p>Scopes: ${found.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ') || 'none'}</p>
${signInForm('request', 'approve', left)}</div>`,
          ),
        );
      },
    },
    {
      method: 'POST',
      path: `${base}/authorize/:id`,
      handler: async (req) => {
        const id = req.params.id ?? '';
        if (!state.requests.has(id)) return notFound;
        const form = bodyForm(req);
        if (form.get('decision') === 'deny') {
          state.deny(id);
          return html(
            200,
            htmlPage(
              'Denied',
              `<h1>${escapeHtml(serviceName)}</h1><p id="status">You denied this request. You can close this page.</p>`,
            ),
          );
        }
        const email = (form.get('email') ?? '').trim();
        if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
          return html(
            400,
            htmlPage('Email required', `<h1>${escapeHtml(serviceName)}</h1><p>Enter an email address to sign in.</p>`),
          );
        }
        const result = state.approve(id, email);
        if (!result.ok)
          return html(
            410,
            htmlPage(
              'Login request closed',
              `<h1>${escapeHtml(serviceName)}</h1><p id="status">${escapeHtml(result.reason)}</p>`,
            ),
          );
        return html(200, finishCodePage(serviceName, result.code));
      },
    },
  ];
}

function finishCodePage(serviceName: string, code: string): string {
  return htmlPage(
    'Finish code',
    `<h1>${escapeHtml(serviceName)}</h1>
<div class="card"><p>Approved. Paste this finish code back where the agent asked:</p>
<p><code id="finish-code" data-testid="finish-code">${escapeHtml(code)}</code></p>
<p class="muted">The code works once. Close this page when done.</p></div>`,
  );
}
