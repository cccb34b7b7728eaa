/**
 * Shapes of secret values the bridge handles. Used as a last line of defence: the logger
 * masks anything that matches before a line is written, and the test suite scans every log
 * for them. The first line of defence is never passing secrets to the logger at all. Each
 * platform adds the shapes of its own tokens (`PlatformDescriptor.secretShapes`, registered by
 * src/main.ts through `addSecretShapes`).
 */
// A secret starts at a word boundary, or right after a JSON escape such as `\n` (in a JSON
// log line the newline before a token becomes the two characters `\` `n`, which hides the
// boundary from `\b`).
const start = String.raw`(?:\b|(?<=\\[nrt]))`;
const pattern = (body: string, flags = 'g') => new RegExp(`${start}${body}`, flags);

const builtInShapes: readonly RegExp[] = [
  // agent-sessions finish/exchange codes, access, refresh and poll tokens (PROTOCOLS.md §1),
  // and the sandbox's auth.md claim finish codes (acf_)
  pattern(String.raw`a(?:ae|as|ar|ap|cf)_[A-Za-z0-9]{16,}`),
  // agent keys (src/core/agent-keys.ts)
  pattern(String.raw`hak_[A-Za-z0-9]{32,}`),
  // auth.md claim tokens
  pattern(String.raw`clm_[A-Za-z0-9_-]{8,}`),
  // PKCE verifiers and other 256-bit hex secrets
  pattern(String.raw`[0-9a-f]{64}\b`),
  // bearer credentials in headers that found their way into a message
  pattern(String.raw`(Bearer)\s+[A-Za-z0-9._~+/=-]{12,}`, 'gi'),
  // JSON Web Tokens (an app's signed JWT)
  pattern(String.raw`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`),
  // PEM private keys (an app's key), up to their end line or the end of the text
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/** The shapes masked: the built-in ones and every registered platform's. */
let secretPatterns: readonly RegExp[] = builtInShapes;

/**
 * Adds token shapes to mask everywhere in this process (a platform's; global flag `g`).
 * Adding a shape twice adds it once.
 */
export function addSecretShapes(shapes: readonly RegExp[]): void {
  const byText = new Map(secretPatterns.map((p) => [`/${p.source}/${p.flags}`, p]));
  for (const shape of shapes) {
    if (!shape.global) throw new Error(`secret shape /${shape.source}/ needs the g flag`);
    byText.set(`/${shape.source}/${shape.flags}`, byText.get(`/${shape.source}/${shape.flags}`) ?? shape);
  }
  secretPatterns = [...byText.values()];
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
