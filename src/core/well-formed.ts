/**
 * Well-formed Unicode at the door. A JavaScript string may hold a lone UTF-16 surrogate (the
 * JSON escape "\ud800" makes one); Redis's Lua cjson refuses to decode such a string, so a
 * handoff record holding one could never change state again (stuck `pending`, a 500 on
 * DELETE). Agents' requests that carry one are refused, naming the field; text from platforms
 * and services is repaired (each lone surrogate becomes U+FFFD) before it is queued or stored.
 */

/** One step down a JSON value, linked to its parent so no path is copied until one is reported. */
interface Step {
  readonly value: unknown;
  readonly key: string | number | undefined;
  readonly parent: Step | undefined;
}

/** The dotted path (`agent.id`, `approvers.2`) of the first ill-formed string or key in a JSON value, or undefined. */
export function illFormedPath(value: unknown): string | undefined {
  // Iterative, not recursive: a 1 MiB body can nest arrays deeper than the call stack.
  const stack: Step[] = [{ value, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    const current = step.value;
    if (typeof current === 'string') {
      if (!current.isWellFormed()) return fieldPath(step);
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], key: i, parent: step });
    } else if (typeof current === 'object' && current !== null) {
      const entries = Object.entries(current);
      for (const [key] of entries) if (!key.isWellFormed()) return fieldPath({ value: undefined, key, parent: step });
      for (let i = entries.length - 1; i >= 0; i--)
        stack.push({ value: entries[i]![1], key: entries[i]![0], parent: step });
    }
  }
  return undefined;
}

function fieldPath(step: Step): string {
  const parts: string[] = [];
  for (let at: Step | undefined = step; at?.key !== undefined; at = at.parent)
    parts.push(String(at.key).toWellFormed());
  return parts.reverse().join('.') || 'body';
}

/** The string with every lone surrogate replaced by U+FFFD (the string itself when already well-formed). */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}
