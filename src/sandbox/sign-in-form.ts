import { escapeHtml } from '../core/html.js';

/**
 * The sandbox's stand-in for signing in: any email works (there is no identity provider
 * here), then approve or deny. Shared by the approval and claim pages.
 */
export function signInForm(noun: 'request' | 'claim', verb: 'approve' | 'claim', expiresIn: string): string {
  return `<p class="muted">This ${noun} expires in ${escapeHtml(expiresIn)}.</p>
<form method="post">
<label>Sign in as (sandbox: any email works)<br><input name="email" type="email" value="you@example.com" data-testid="email" required></label>
<p><button class="primary" name="decision" value="approve" data-testid="approve">Sign in and ${verb}</button>
<button name="decision" value="deny" data-testid="deny">Deny</button></p>
</form>`;
}
