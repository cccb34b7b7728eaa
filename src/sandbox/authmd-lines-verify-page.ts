import { bodyForm, html, type Route } from '../core/http-route.js';
import { escapeHtml, htmlPage } from '../core/html.js';
import type { AuthMdLinesState } from './authmd-lines-state.js';
import { defaultAuthMdScopes } from './authmd-state.js';

/**
 * The person's page of the sandbox's auth.md later lines, `/claim/verify/:attempt`: the polling
 * line asks for the code the thread showed; the read-back line shows one after Authorize, for
 * the person to paste where the agent asked.
 */
export function verifyPageRoutes(state: AuthMdLinesState, base: string, serviceName: string): Route[] {
  const title = `<h1>${escapeHtml(serviceName)}</h1>`;
  const polling = state.line === '0.6';
  const page = (status: number, body: string) =>
    html(status, htmlPage(`Claim an agent for ${serviceName}`, `${title}${body}`));
  return [
    {
      method: 'GET',
      path: `${base}/claim/verify/:attempt`,
      handler: async (req) => {
        const r = state.attemptById(req.params.attempt ?? '');
        if (!r) return page(404, '<p id="status">Link invalid.</p>');
        return page(
          200,
          `<div class="card"><p>An agent asks to act for <strong>${escapeHtml(r.email ?? '')}</strong> with scopes ${defaultAuthMdScopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}.</p>
<form method="post"><label>Sign in as (sandbox: type the email)<br><input name="email" type="email" data-testid="email" required></label>
${polling ? '<label>Code shown where the agent asked<br><input name="user_code" data-testid="user-code" required></label>' : ''}
<p><button class="primary" data-testid="authorize">${polling ? 'Sign in and confirm' : 'Sign in and Authorize agent'}</button></p></form></div>`,
        );
      },
    },
    {
      method: 'POST',
      path: `${base}/claim/verify/:attempt`,
      handler: async (req) => {
        const form = bodyForm(req);
        const email = (form.get('email') ?? '').trim();
        const result = state.confirm(req.params.attempt ?? '', email, form.get('user_code') ?? undefined);
        if (!result.ok) return page(result.status, `<p id="status">${escapeHtml(result.message)}</p>`);
        return page(
          200,
          polling
            ? '<p id="status">Confirmed. The agent will pick it up by itself.</p>'
            : `<p>Authorized. Paste this code where the agent asked:</p><p><code id="user-code" data-testid="user-code">${escapeHtml(result.userCode)}</code></p>`,
        );
      },
    },
  ];
}
