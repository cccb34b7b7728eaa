import { describeDuration } from '../core/clock.js';
import { bodyForm, html, type Route } from '../core/http-route.js';
import { escapeHtml, htmlPage } from '../core/html.js';
import { signInForm } from './sign-in-form.js';
import type { AuthMdState } from './authmd-state.js';
import { isEmail } from './request-fields.js';

/**
 * The person's side of auth.md in the sandbox: the claim page a browser flow links to (sign
 * in, approve, read the finish code), the page an emailed link opens (a fresh 6-digit code on
 * every load, voiding the previous one), and a mailbox standing in for their inbox.
 */
export function claimPageRoutes(state: AuthMdState, base: string, serviceName: string): Route[] {
  const title = `<h1>${escapeHtml(serviceName)}</h1>`;
  const closed = (text: string) =>
    html(410, htmlPage('Claim closed', `${title}<p id="status">${escapeHtml(text)}</p>`));

  const codePage = (label: string, code: string, testId: string) =>
    html(
      200,
      htmlPage(
        label,
        `${title}<div class="card"><p>${escapeHtml(label)}. Paste it back where the agent asked:</p>
<p><code id="${testId}" data-testid="${testId}">${escapeHtml(code)}</code></p>
<p class="muted">It works once and for ${escapeHtml(describeDuration(state.otpTtlMs))}; loading this page again makes a new one.</p></div>`,
      ),
    );

  return [
    {
      method: 'GET',
      path: `${base}/claim/:id`,
      handler: async (req) => {
        const registration = state.registrations.get(req.params.id ?? '');
        if (!registration) return html(404, htmlPage('Not found', `${title}<p>This registration does not exist.</p>`));
        if (registration.status !== 'pending') return closed(`This registration is ${registration.status}.`);
        const left = describeDuration(registration.claimExpiresAt - state.now());
        return html(
          200,
          htmlPage(
            `Claim an agent for ${serviceName}`,
            `${title}<div class="card">
<p>An agent registered with ${escapeHtml(serviceName)} and asks you to claim it, so it works on your behalf with scopes ${registration.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}.</p>
${signInForm('claim', 'claim', left)}</div>`,
          ),
        );
      },
    },
    {
      method: 'POST',
      path: `${base}/claim/:id`,
      handler: async (req) => {
        const id = req.params.id ?? '';
        const form = bodyForm(req);
        if (form.get('decision') === 'deny') {
          state.deny(id);
          return html(200, htmlPage('Denied', `${title}<p id="status">You declined. You can close this page.</p>`));
        }
        const email = (form.get('email') ?? '').trim();
        if (!isEmail(email))
          return html(400, htmlPage('Email required', `${title}<p>Enter an email address to sign in.</p>`));
        const result = state.approveInBrowser(id, email);
        if (!result.ok) return closed(result.message);
        return codePage('Claimed: here is your finish code', result.code, 'finish-code');
      },
    },
    {
      method: 'GET',
      path: `${base}/claim/:id/email`,
      handler: async (req) => {
        const result = state.openEmailLink(req.params.id ?? '', req.query.get('k') ?? '');
        if (!result.ok) return closed(result.message);
        return codePage('Your one-time code', result.otp, 'otp');
      },
    },
    {
      method: 'GET',
      path: `${base}/mailbox`,
      handler: async (req) => {
        const to = req.query.get('to')?.trim().toLowerCase();
        const mails = state.mailbox
          .filter((m) => !to || m.to.toLowerCase() === to)
          .slice(-50)
          .reverse();
        const rows = mails
          .map(
            (
              m,
            ) => `<div class="msg" data-testid="mail" data-to="${escapeHtml(m.to)}"><span class="who">${escapeHtml(m.to)}</span>${escapeHtml(m.subject)}<br>
<a href="${escapeHtml(m.link)}" data-testid="mail-link">Open the link to get your code</a></div>`,
          )
          .join('\n');
        return html(
          200,
          htmlPage(
            `${serviceName} mailbox`,
            `${title}<p class="muted">The sandbox's stand-in for your inbox${to ? ` (${escapeHtml(to)})` : ''}.</p>${rows || '<p>No mail yet.</p>'}`,
          ),
        );
      },
    },
  ];
}
