/**
 * Shapes of secret values the bridge handles. Used as a last line of defence: the logger
 * masks anything that matches before a line is written, and the test suite scans every log
 * for them. The first line of defence is never passing secrets to the logger at all.
 */
export const secretPatterns: readonly RegExp[] = [
  // agent-sessions finish/exchange codes, access, refresh and poll tokens (PROTOCOLS.md §1)
  /\ba(?:ae|as|ar|ap)_[A-Za-z0-9]{16,}/g,
  // auth.md claim tokens
  /\bclm_[A-Za-z0-9_-]{8,}/g,
  // PKCE verifiers and other 256-bit hex secrets
  /\b[0-9a-f]{64}\b/g,
  // bearer credentials in headers that found their way into a message
  /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{12,}/gi,
  // Slack, GitHub and Linear token shapes
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\bxapp-[A-Za-z0-9-]{10,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\blin_(?:api|oauth)_[A-Za-z0-9]{20,}/g,
];

/** Replaces every secret-shaped substring with `[redacted]`. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const pattern of secretPatterns) {
    out = out.replace(pattern, (match, bearer: unknown) =>
      typeof bearer === 'string' && /^bearer$/i.test(bearer) ? `${bearer} [redacted]` : '[redacted]',
    );
  }
  return out;
}

/** Every secret-shaped substring in `text` (for scans in tests and audits). */
export function findSecrets(text: string): string[] {
  const found: string[] = [];
  for (const pattern of secretPatterns) {
    for (const match of text.matchAll(new RegExp(pattern.source, pattern.flags))) found.push(match[0]);
  }
  return found;
}
