import { bodyForm, bodyJson, type RouteRequest } from '../core/http-route.js';

/** Reading request bodies the way the sandbox's endpoints do: JSON objects or form fields. */
export type Fields = Record<string, unknown>;

/** The body as a JSON object, or undefined when it is not one. */
export function jsonFields(req: RouteRequest): Fields | undefined {
  const body = bodyJson(req);
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Fields) : undefined;
}

/** Form fields, but only when the client said it sent a form (OAuth endpoints are strict). */
export function formFields(req: RouteRequest): URLSearchParams | undefined {
  const type = req.headers['content-type'] ?? '';
  return /^application\/x-www-form-urlencoded\b/i.test(type) ? bodyForm(req) : undefined;
}

/** A non-empty string, or undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export const isEmail = (v: string): boolean => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v);
