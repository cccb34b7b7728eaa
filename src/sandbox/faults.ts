import { html, json, type RouteResponse } from '../core/http-route.js';

/**
 * Trouble on demand, so tests can show how the bridge copes with a misbehaving service:
 * the next `times` calls to a route answer a 500, a 200 whose body is not JSON, an HTML
 * page, or a 429 with `Retry-After: 60` instead of the real answer; or the next `times` calls
 * answer for real, but only after `ms` (a slow service). Paths are relative to the sandbox's base.
 */
export type FaultKind = 'error_500' | 'malformed_json' | 'html' | 'rate_limited';

export class SandboxFaults {
  private readonly pending = new Map<string, FaultKind[]>();
  private readonly delays = new Map<string, number[]>();

  inject(path: string, kind: FaultKind, times = 1): void {
    const list = this.pending.get(path) ?? [];
    for (let i = 0; i < times; i++) list.push(kind);
    this.pending.set(path, list);
  }

  /** The next `times` calls to `path` get their real answer `ms` late. */
  slow(path: string, ms: number, times = 1): void {
    this.delays.set(path, [...(this.delays.get(path) ?? []), ...Array<number>(times).fill(ms)]);
  }

  clear(): void {
    this.pending.clear();
    this.delays.clear();
  }

  /** How long the next call to `path` waits before it is answered, ms (0: at once). */
  takeDelay(path: string): number {
    return this.delays.get(path)?.shift() ?? 0;
  }

  /** The fault for the next call to `path`, if one is queued. */
  take(path: string): RouteResponse | undefined {
    const kind = this.pending.get(path)?.shift();
    switch (kind) {
      case undefined:
        return undefined;
      case 'error_500':
        return json(500, { error: 'internal_error', message: 'The sandbox was told to fail.' });
      case 'malformed_json':
        return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"registration_id": "reg_' };
      case 'html':
        return html(200, '<!doctype html><title>Maintenance</title><p>Back soon.</p>');
      case 'rate_limited':
        return json(429, { error: 'rate_limited', message: 'Slow down.' }, { 'retry-after': '60' });
    }
  }
}
