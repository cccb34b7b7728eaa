import { verify, type KeyObject } from 'node:crypto';

/**
 * The sandbox's ID-JAG check, in the reference verifier's order and codes (AUTHMD-VERSIONS.md
 * §3.3): the header (`typ: oauth-id-jag+jwt`, a known `alg`), a trusted `iss`, the signature
 * against that issuer's key (the bridge's own, when `HANDOFF_ID_JAG_*` is set), `jti` and
 * `sub`, `exp`, `auth_time` within an hour, `jti` once. The audience and the email are the
 * registration's checks (AuthMdLinesState.registerAssertion).
 */
export type IdJagCheck =
  | { readonly ok: true; readonly payload: Record<string, unknown> }
  | { readonly ok: false; readonly status: number; readonly error: string; readonly message: string };

const maxAssertionChars = 8_192;
const maxAuthAgeSeconds = 3_600 + 60;

const bad = (status: number, error: string, message: string): IdJagCheck => ({ ok: false, status, error, message });

function part(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text ?? '', 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const algorithms: Record<string, { hash: string | null; p1363?: true }> = {
  ES256: { hash: 'sha256', p1363: true },
  RS256: { hash: 'sha256' },
  EdDSA: { hash: null },
};

export function verifyIdJag(
  token: string | undefined,
  trusted: Readonly<Record<string, KeyObject>>,
  nowMs: number,
  seenJti: Set<string>,
): IdJagCheck {
  if (!token || token.length > maxAssertionChars) return bad(400, 'invalid_request', 'Send an ID-JAG assertion.');
  const [h, p, s, extra] = token.split('.');
  const header = part(h);
  const payload = part(p);
  if (!header || !payload || !s || extra !== undefined || header.typ !== 'oauth-id-jag+jwt')
    return bad(400, 'invalid_request', 'The assertion is not an ID-JAG (typ oauth-id-jag+jwt).');
  const alg = typeof header.alg === 'string' ? algorithms[header.alg] : undefined;
  if (!alg) return bad(400, 'invalid_request', 'Unsupported alg.');
  const key = typeof payload.iss === 'string' && Object.hasOwn(trusted, payload.iss) ? trusted[payload.iss] : undefined;
  if (!key) return bad(400, 'invalid_issuer', 'This service trusts no such issuer.');
  const ok = verify(
    alg.hash,
    Buffer.from(`${h}.${p}`),
    alg.p1363 ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(s, 'base64url'),
  );
  if (!ok) return bad(400, 'invalid_signature', 'The assertion signature does not verify.');
  if (typeof payload.jti !== 'string' || typeof payload.sub !== 'string')
    return bad(400, 'invalid_request', 'The assertion needs jti and sub.');
  const now = Math.floor(nowMs / 1000);
  if (typeof payload.exp !== 'number' || payload.exp <= now)
    return bad(400, 'expired', 'jwt expired: exp check failed');
  if (typeof payload.auth_time !== 'number' || now - payload.auth_time > maxAuthAgeSeconds)
    return bad(401, 'login_required', 'The person signed in too long ago: get a fresh ID-JAG.');
  const replayKey = `${payload.iss as string} ${payload.jti}`;
  if (seenJti.has(replayKey)) return bad(400, 'replay_detected', 'This assertion was used before.');
  seenJti.add(replayKey);
  return { ok: true, payload };
}
