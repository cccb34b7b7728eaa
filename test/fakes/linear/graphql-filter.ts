/**
 * Linear's filter objects, evaluated the way the API does for the parts the bridge uses:
 * comparators (`eq`, `eqIgnoreCase`, `in`, `gt`…), relation filters (`issue: {id: {in}}`),
 * and `and` / `or`. An unknown comparator is an error, so the adapter cannot lean on a
 * filter the fake silently ignores.
 */
export type Entity = { readonly [key: string]: unknown };

const comparators = new Set([
  'eq',
  'neq',
  'in',
  'nin',
  'eqIgnoreCase',
  'neqIgnoreCase',
  'gt',
  'gte',
  'lt',
  'lte',
  'null',
]);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Dates are compared as instants (the API takes ISO strings and returns DateTime). */
function comparable(value: unknown): unknown {
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)) return Date.parse(value);
  return value;
}

function compare(value: unknown, cond: Record<string, unknown>): boolean {
  for (const [op, expected] of Object.entries(cond)) {
    const v = comparable(value);
    const e = comparable(expected);
    switch (op) {
      case 'eq':
        if (v !== e) return false;
        break;
      case 'neq':
        if (v === e) return false;
        break;
      case 'in':
        if (!Array.isArray(expected) || !expected.map(comparable).includes(v)) return false;
        break;
      case 'nin':
        if (Array.isArray(expected) && expected.map(comparable).includes(v)) return false;
        break;
      case 'eqIgnoreCase':
        if (typeof value !== 'string' || typeof expected !== 'string' || value.toLowerCase() !== expected.toLowerCase())
          return false;
        break;
      case 'neqIgnoreCase':
        if (typeof value === 'string' && typeof expected === 'string' && value.toLowerCase() === expected.toLowerCase())
          return false;
        break;
      case 'gt':
        if (!((v as number) > (e as number))) return false;
        break;
      case 'gte':
        if (!((v as number) >= (e as number))) return false;
        break;
      case 'lt':
        if (!((v as number) < (e as number))) return false;
        break;
      case 'lte':
        if (!((v as number) <= (e as number))) return false;
        break;
      case 'null':
        if ((value === null || value === undefined) !== expected) return false;
        break;
    }
  }
  return true;
}

export function matchesFilter(entity: Entity, filter: unknown): boolean {
  if (filter === undefined || filter === null) return true;
  if (!isPlainObject(filter)) throw new Error(`filter must be an object, got ${JSON.stringify(filter)}`);
  for (const [key, cond] of Object.entries(filter)) {
    if (key === 'or' || key === 'and') {
      if (!Array.isArray(cond)) throw new Error(`${key} must be a list of filters`);
      const results = cond.map((f) => matchesFilter(entity, f));
      if (key === 'or' ? !results.some(Boolean) : !results.every(Boolean)) return false;
      continue;
    }
    if (!isPlainObject(cond)) throw new Error(`filter field ${key} must be an object`);
    const ops = Object.keys(cond);
    if (ops.length > 0 && ops.every((op) => comparators.has(op))) {
      if (!compare(entity[key], cond)) return false;
      continue;
    }
    // Not a comparator: a filter on a related entity (`issue: {id: {in: […]}}`).
    const related = entity[key];
    if (related === null || related === undefined) return false;
    if (!isPlainObject(related)) throw new Error(`unsupported comparator in filter ${key}: ${ops.join(', ')}`);
    if (!matchesFilter(related, cond)) return false;
  }
  return true;
}
