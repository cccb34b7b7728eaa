/**
 * The one glob matcher for operator policy (agent services and threads). `*` matches any run
 * of characters, the empty one included; every other character, `?`, `[` and `.` among them,
 * matches only itself. No regular expression is built from the operator's string, so nothing
 * in it can be read as one. Time proportional to the text in practice (greedy with one
 * backtrack point).
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** True when any of the patterns matches. */
export function globMatchAny(patterns: readonly string[], text: string): boolean {
  return patterns.some((pattern) => globMatch(pattern, text));
}
