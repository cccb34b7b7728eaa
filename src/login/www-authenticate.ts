/**
 * Reads `WWW-Authenticate` (RFC 9110 §11.6.1): one or more challenges, each a scheme followed
 * by a token68 or comma-separated `name=value` pairs whose values may be quoted strings with
 * backslash escapes. Several challenges share one header, separated by commas too, which is
 * why this is a small scanner rather than a split. Lenient: unquoted values, odd spacing,
 * and upper-case names are accepted; junk is skipped, never thrown.
 */
export interface Challenge {
  /** Lower-cased, e.g. `bearer`. */
  readonly scheme: string;
  /** Lower-cased parameter names; the first occurrence wins. */
  readonly params: Readonly<Record<string, string>>;
}

const tokenChar = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  const text = header.slice(0, 8192);
  const challenges: Array<{ scheme: string; params: Record<string, string> }> = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /[\s,]/.test(text[i]!)) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < text.length && tokenChar.test(text[i]!)) i++;
    return text.slice(start, i);
  };
  const readQuoted = () => {
    let out = '';
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      out += text[i];
      i++;
    }
    i++; // closing quote
    return out;
  };

  while (i < text.length) {
    skipSpace();
    const word = readToken();
    if (!word) {
      i++; // not a token: skip the character
      continue;
    }
    while (i < text.length && text[i] === ' ') i++;
    if (text[i] === '=') {
      // A parameter of the current challenge (or a token68 such as "abc==").
      let j = i;
      while (text[j] === '=') j++;
      const after = text.slice(j).trimStart()[0];
      const current = challenges.at(-1);
      if (j - i > 1 || after === undefined || after === ',') {
        i = j; // token68: nothing we need
        continue;
      }
      i = j;
      while (i < text.length && text[i] === ' ') i++;
      const value = text[i] === '"' ? readQuoted() : readBareValue();
      const name = word.toLowerCase();
      if (current && !(name in current.params)) current.params[name] = value;
      continue;
    }
    challenges.push({ scheme: word.toLowerCase(), params: {} });
  }
  return challenges;

  function readBareValue(): string {
    const start = i;
    while (i < text.length && text[i] !== ',' && !/\s/.test(text[i]!)) i++;
    return text.slice(start, i);
  }
}

/** The `resource_metadata` URL of the first Bearer challenge that names one (RFC 9728 §5.1). */
export function resourceMetadataFrom(header: string | null | undefined): string | undefined {
  return parseWwwAuthenticate(header).find((c) => c.scheme === 'bearer' && c.params.resource_metadata)?.params
    .resource_metadata;
}
