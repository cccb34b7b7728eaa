import type { CredentialView, HandoffView } from '../core/wire.js';
import { describeDuration } from '../core/clock.js';

/** Exit codes of the `handoff` command. */
export const exitCodes = {
  done: 0,
  error: 1,
  usage: 2,
  expired: 3,
  failed: 4,
  cancelled: 5,
  interrupted: 130,
} as const;

export function exitCodeFor(status: HandoffView['status']): number {
  switch (status) {
    case 'completed':
      return exitCodes.done;
    case 'expired':
      return exitCodes.expired;
    case 'cancelled':
      return exitCodes.cancelled;
    default:
      return exitCodes.failed;
  }
}

const statusWords: Record<HandoffView['status'], string> = {
  pending: 'starting the login',
  awaiting_human: 'waiting for approval',
  claiming: 'checking the code',
  completed: 'completed',
  failed: 'failed',
  expired: 'expired',
  cancelled: 'cancelled',
};

/** One progress line, e.g. "waiting for approval in local:demo (28 min left)". */
export function progressLine(view: HandoffView, now: number): string {
  const left = view.expiresAt - now;
  const when = ['pending', 'awaiting_human', 'claiming'].includes(view.status)
    ? ` (${describeDuration(left)} left)`
    : '';
  return `${statusWords[view.status]} in ${view.thread}${when}`;
}

/**
 * Where the person goes, named for what they do there: an approval page that ends with a finish
 * code, a service that emails them the code, or a device-verification page.
 */
export function approvalLine(view: HandoffView): string | null {
  // No link once started: the service asks the approver on their own device (CIBA).
  if (!view.approvalUrl)
    return view.answer === 'done'
      ? `the service asks the approver on their own device; the thread shows what it should display: ${view.thread}`
      : null;
  switch (view.answer) {
    case 'email_code':
      return `the service emails the approver a code to answer in ${view.thread}; service: ${view.approvalUrl}`;
    case 'page_code':
      return `approval link (posted in ${view.thread}; answer with the code the page shows): ${view.approvalUrl}`;
    case 'done':
      return `verification link (posted in ${view.thread}; answer "done" after approving): ${view.approvalUrl}`;
    default:
      return `approval link (posted in ${view.thread}): ${view.approvalUrl}`;
  }
}

export function describeCredential(c: CredentialView): string {
  return [
    `${c.id}  ${c.serviceName ?? c.service} (${c.protocol})`,
    `  service   ${c.service}`,
    `  scopes    ${c.scopes.join(', ') || 'none'}`,
    `  expires   ${c.expiresAt === null ? 'never' : new Date(c.expiresAt).toISOString()}`,
    `  agent     ${c.agentId}`,
    `  thread    ${c.thread}`,
    `  handoff   ${c.handoffId}`,
  ].join('\n');
}

export function describeHandoff(view: HandoffView): string {
  const lines = [
    `${view.id}  ${view.status}`,
    `  service   ${view.serviceName ? `${view.serviceName}, ` : ''}${view.service} (${view.protocol}${view.protocolVersion ? ` ${view.protocolVersion}` : ''})`,
    `  thread    ${view.thread}`,
    `  agent     ${view.agent.id}`,
    `  expires   ${new Date(view.expiresAt).toISOString()}`,
  ];
  const open = !['completed', 'failed', 'expired', 'cancelled'].includes(view.status);
  if (open && !view.approvalUrl && view.answer === 'done')
    lines.push('  answer    on the approver’s own device (the thread shows what it should display)');
  if (view.approvalUrl && open) {
    if (view.answer === 'email_code') lines.push('  answer    the code the service emailed the approver');
    else lines.push(`  ${view.answer === 'done' ? 'verify ' : 'approve'}   ${view.approvalUrl}`);
  }
  if (view.error) lines.push(`  error     ${view.error.code}: ${view.error.message}`);
  if (view.credential)
    lines.push(`  credential ${view.credential.id} (scopes: ${view.credential.scopes.join(', ') || 'none'})`);
  if (view.previousHandoffId) lines.push(`  re-opens  ${view.previousHandoffId}`);
  return lines.join('\n');
}
