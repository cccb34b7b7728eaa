import { bodyForm, html, type Route } from '../core/http-route.js';
import { escapeHtml, htmlPage } from '../core/html.js';
import { formatUserCode, normaliseUserCode, type DeviceState } from './device-state.js';
import { isEmail } from './request-fields.js';

/**
 * The device flow's verification page (RFC 8628 §3.3): the person types (or the complete
 * link fills in) the user code, "signs in", and approves or denies. Nothing comes back to
 * paste: the bridge learns the outcome by polling the token endpoint.
 */
export function devicePageRoutes(device: DeviceState, base: string, serviceName: string): Route[] {
  const title = `<h1>${escapeHtml(serviceName)}</h1>`;
  return [
    {
      method: 'GET',
      path: `${base}/activate`,
      handler: async (req) => {
        const given = normaliseUserCode(req.query.get('user_code') ?? '');
        const known = given.length === 8 ? device.byUserCode(given) : undefined;
        const value = given.length === 8 ? formatUserCode(given) : '';
        return html(
          200,
          htmlPage(
            `Connect a device to ${serviceName}`,
            `${title}<div class="card">
<p>A device or agent asks to use your ${escapeHtml(serviceName)} account${known ? ` with scopes ${known.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}` : ''}.</p>
<p>Check that the code below matches the one you were given.</p>
<form method="post">
<label>Code<br><input name="user_code" value="${escapeHtml(value)}" data-testid="user-code" autocomplete="off" required></label>
<label>Sign in as (sandbox: any email works)<br><input name="email" type="email" value="you@example.com" data-testid="email" required></label>
<p><button class="primary" name="decision" value="approve" data-testid="approve">Sign in and allow</button>
<button name="decision" value="deny" data-testid="deny">Deny</button></p>
</form></div>`,
          ),
        );
      },
    },
    {
      method: 'POST',
      path: `${base}/activate`,
      handler: async (req) => {
        const form = bodyForm(req);
        const decision = form.get('decision') === 'deny' ? 'deny' : 'approve';
        const email = (form.get('email') ?? '').trim();
        if (decision === 'approve' && !isEmail(email))
          return html(400, htmlPage('Email required', `${title}<p>Enter an email address to sign in.</p>`));
        const result = device.decide(form.get('user_code') ?? '', decision, email);
        if (!result.ok)
          return html(400, htmlPage('Code not accepted', `${title}<p id="status">${escapeHtml(result.reason)}</p>`));
        const text =
          decision === 'deny' ? 'You denied the request.' : 'Done: the device is connected. Go back to the thread.';
        return html(
          200,
          htmlPage(
            decision === 'deny' ? 'Denied' : 'Connected',
            `${title}<p id="status" data-testid="status">${text}</p>`,
          ),
        );
      },
    },
  ];
}
