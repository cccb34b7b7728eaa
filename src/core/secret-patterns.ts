/**
 * Shapes of secret values the bridge handles. Used as a last line of defence: the logger
 * masks anything that matches before a line is written, and the test suite scans every log
 * for them. The first line of defence is never passing secrets to the logger at all.
 *
 * The shapes below belong to no one module. A login protocol declares its own
 * (`secretShapes` in src/login/protocol-module.ts), and src/main.ts registers those of every
 * protocol it lists with `registerSecretShapes` when it is loaded.
 */
// A secret starts at a word boundary, or right after a JSON escape such as `\n` (in a JSON
// log line the newline before a token becomes the two characters `\` `n`, which hides the
// boundary from `\b`).
const start = String.raw`(?:\b|(?<=\\[nrt]))`;
/** A secret shape: `body` starting at a word boundary or after a JSON escape. */
export const secretLike = (body: string, flags = 'g'): RegExp => new RegExp(`${start}${body}`, flags);
const pattern = secretLike;

const patterns: RegExp[] = [
  // The built-in protocols' codes and tokens, also declared by their modules: kept here so a
  // process that never loads the registry (the CLI, a worker script, a test) masks them too.
  // agent-sessions finish/exchange codes, access, refresh and poll tokens; the sandbox's auth.md
  // claim finish codes (acf_); auth.md claim tokens.
  pattern(String.raw`a(?:ae|as|ar|ap)_[A-Za-z0-9]{16,}`),
  pattern(String.raw`clm_[A-Za-z0-9_-]{8,}`),
  pattern(String.raw`acf_[A-Za-z0-9]{16,}`),
  // agent keys (src/core/agent-keys.ts)
  pattern(String.raw`hak_[A-Za-z0-9]{32,}`),
  // PKCE verifiers and other 256-bit hex secrets
  pattern(String.raw`[0-9a-f]{64}\b`),
  // bearer credentials in headers that found their way into a message
  pattern(String.raw`(Bearer)\s+[A-Za-z0-9._~+/=-]{12,}`, 'gi'),
  // JSON Web Tokens (an app's signed JWT)
  pattern(String.raw`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`),
  // PEM private keys (an app's key), up to their end line or the end of the text
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/** Every shape masked: the ones above, then those registered. */
export const secretPatterns: readonly RegExp[] = patterns;

/**
 * Adds shapes to mask, process-wide (a shape already there is not added twice). Each must have
 * the global flag. src/main.ts registers the shapes its protocols declare.
 */
export function registerSecretShapes(shapes: readonly RegExp[]): void {
  for (const shape of shapes) {
    if (!shape.global) throw new TypeError(`secret shape /${shape.source}/ needs the g flag`);
    if (!patterns.some((p) => p.source === shape.source && p.flags === shape.flags)) patterns.push(shape);
  }
}

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
