import { readFileSync } from 'node:fs';
import { originKeyedEntries } from './config-fields.js';

/**
 * How the bridge names the approver to each CIBA authorization server (`login_hint`, CIBA Core
 * §7.1, whose format the server defines). `HANDOFF_CIBA_LOGIN_HINTS` holds comma- or
 * newline-separated `ORIGIN=FORMAT[:MAPPING_FILE]` entries; an origin not listed gets `email`:
 *
 * - `email`: the approver's email (most servers; the sandbox);
 * - `iss_sub`: Auth0's shape, a JSON string `{"format":"iss_sub","iss":"<issuer>","sub":"<user id>"}`
 *   (the `auth0` SDK's `getLoginHint`). The issuer is the server's metadata `issuer`; the user id
 *   comes from the mapping file, a JSON object from approver email to subject, e.g.
 *   `{"ida@corp.example": "auth0|65f0c2…"}`, read and checked when the configuration is read.
 *
 * `login_hint_token` and `id_token_hint` are not spoken: the bridge holds no such token for an
 * approver. Messages name the variable and the entry, never a mapped subject.
 */
export const cibaLoginHintsVariable = 'HANDOFF_CIBA_LOGIN_HINTS';

export type CibaLoginHint =
  | { readonly format: 'email' }
  | {
      readonly format: 'iss_sub';
      /** Where the mapping was read from (shown in errors). */
      readonly mappingPath: string;
      /** Lower-cased approver email → the server's user id. */
      readonly subjects: Readonly<Record<string, string>>;
    };

const maxSubjects = 100_000;
const subjectShape = /^[\x21-\x7e]{1,255}$/;
const example = 'https://TENANT.auth0.com=iss_sub:/etc/handoff/auth0-subjects.json, or ORIGIN=email';

function readMapping(path: string): { subjects: Record<string, string> } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: `names the mapping file ${path}, which cannot be read${code ? ` (${code})` : ''}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: `names the mapping file ${path}, which is not JSON` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { problem: `names the mapping file ${path}, which is not a JSON object of email → subject` };
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > maxSubjects)
    return { problem: `names the mapping file ${path}, with over ${maxSubjects} entries` };
  const subjects: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [email, sub] of entries) {
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || typeof sub !== 'string' || !subjectShape.test(sub))
      return {
        problem: `names the mapping file ${path}, whose entry ${JSON.stringify(email.slice(0, 80))} is not email → subject (1–255 visible characters)`,
      };
    subjects[email.toLowerCase()] = sub;
  }
  return { subjects };
}

/** The zod field for `HANDOFF_CIBA_LOGIN_HINTS`: a map from origin to login-hint format. */
export const cibaLoginHintsField = originKeyedEntries<CibaLoginHint>(example, (text) => {
  const rest = text.trim();
  const colon = rest.indexOf(':');
  const format = (colon >= 0 ? rest.slice(0, colon) : rest).trim();
  const path = colon >= 0 ? rest.slice(colon + 1).trim() : '';
  if (format === 'email') {
    if (path) return { problem: 'gives a mapping file, which the email format does not use' };
    return { value: { format: 'email' } };
  }
  if (format !== 'iss_sub')
    return {
      problem: `names the format "${format.slice(0, 40)}": the bridge speaks email and iss_sub (login_hint_token and id_token_hint are not supported)`,
    };
  if (!path.startsWith('/')) return { problem: 'needs the absolute path of a mapping file after "iss_sub:"' };
  const mapping = readMapping(path);
  if ('problem' in mapping) return mapping;
  return { value: { format: 'iss_sub', mappingPath: path, subjects: mapping.subjects } };
});
