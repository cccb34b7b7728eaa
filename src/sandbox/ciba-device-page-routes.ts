import { bodyForm, html, type Route } from '../core/http-route.js';
import { escapeHtml, htmlPage } from '../core/html.js';
import type { CibaState } from './ciba-state.js';
import { isEmail } from './request-fields.js';

/**
 * The CIBA sandbox's stand-in for the person's own device (an authenticator app, a push
 * notification): `/phone?email=…` lists the requests waiting for that person, each with
 * its binding message and Approve / Deny. Nothing comes back to paste: the bridge learns the
 * answer by polling the token endpoint.
 */
export function cibaDevicePageRoutes(ciba: CibaState, base: string, serviceName: string): Route[] {
  const title = `<h1>${escapeHtml(serviceName)}: your device</h1>`;
  const path = `${base}/phone`;
  return [
    {
      method: 'GET',
      path,
      handler: async (req) => {
        const email = (req.query.get('email') ?? '').trim();
        const chooser = `<form method="get"><label>Whose device is this? (sandbox: any email)<br><input name="email" type="email" value="${escapeHtml(email || 'you@example.com')}" data-testid="email" required></label> <button>Open</button></form>`;
        if (!isEmail(email)) return html(200, htmlPage(`${serviceName}: your device`, `${title}${chooser}`));
        const waiting = ciba.pendingFor(email);
        const items = waiting
          .map(
            (r) => `<div class="card" data-testid="request">
<p>An app asks to sign in as <strong>${escapeHtml(r.email)}</strong> with scopes ${r.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}.</p>
<p>It shows: <strong data-testid="binding-message">${escapeHtml(r.bindingMessage ?? '(no message)')}</strong>. Approve only if the thread shows the same.</p>
<form method="post"><input type="hidden" name="id" value="${escapeHtml(r.publicId)}"><input type="hidden" name="email" value="${escapeHtml(r.email)}">
<button class="primary" name="decision" value="approve" data-testid="approve">Approve</button>
<button name="decision" value="deny" data-testid="deny">Deny</button></form></div>`,
          )
          .join('\n');
        return html(
          200,
          htmlPage(
            `${serviceName}: your device`,
            `${title}${chooser}${items || '<p id="status">Nothing is waiting for you. Reload when the thread says a request was sent.</p>'}`,
          ),
        );
      },
    },
    {
      method: 'POST',
      path,
      handler: async (req) => {
        const form = bodyForm(req);
        const decision = form.get('decision') === 'deny' ? 'deny' : 'approve';
        const result = ciba.decide(form.get('id') ?? '', form.get('email') ?? '', decision);
        if (!result.ok)
          return html(400, htmlPage('Not accepted', `${title}<p id="status">${escapeHtml(result.reason)}</p>`));
        const text = decision === 'deny' ? 'You denied the request.' : 'Approved. Go back to the thread.';
        return html(
          200,
          htmlPage(
            decision === 'deny' ? 'Denied' : 'Approved',
            `${title}<p id="status" data-testid="status">${text}</p>`,
          ),
        );
      },
    },
  ];
}
