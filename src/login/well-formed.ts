/**
 * Text from services, made well-formed Unicode where it is read. UTF-8 decoding already
 * replaces bad bytes, but a JSON string may still spell a lone surrogate (`"\ud800"`), which
 * no Redis Lua script can decode: a record holding one could never change state again. Every
 * string in a parsed document (keys too) is passed through `toWellFormed()`, which replaces a
 * lone surrogate with U+FFFD and leaves everything else as it was.
 */
export function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed();
  if (Array.isArray(value)) return value.map(wellFormed);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key.toWellFormed(), wellFormed(v)]));
  }
  return value;
}

/** JSON.parse, then wellFormed; undefined when the text is not JSON. */
export function parseServiceJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return wellFormed(JSON.parse(text));
  } catch {
    return undefined;
  }
}
