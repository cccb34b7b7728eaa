import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { originKeyedEntries } from './config-fields.js';
import { cibaLoginHintsField, cibaLoginHintsVariable } from './config-ciba-hints.js';

/**
 * The OpenID CIBA client credentials (src/login/ciba.ts), one per authorization-server origin:
 * `HANDOFF_CIBA_CLIENTS` (or `HANDOFF_CIBA_CLIENTS_FILE`, a secret file) holds comma- or
 * newline-separated `ORIGIN=CLIENT_ID:CLIENT_SECRET` entries, e.g.
 * `https://login.example.com=handoff:s3cret`; for `private_key_jwt` the secret is the absolute
 * path of a PEM private key instead (`https://login.example.com=handoff:/run/secrets/ciba.pem`).
 * Messages name the variable and the entry, never a secret.
 */
export const cibaClientsVariable = 'HANDOFF_CIBA_CLIENTS';

/** How the bridge authenticates as one CIBA client at one authorization server. */
export type CibaClient =
  | { readonly clientId: string; readonly kind: 'secret'; readonly secret: string }
  | {
      readonly clientId: string;
      readonly kind: 'private_key';
      /** Where the key was read from (shown in errors; the key itself never is). */
      readonly keyPath: string;
      /** The PEM text, checked to be a private key when the configuration was read. */
      readonly pem: string;
    };

/** A client secret shorter than this is refused: it could not be masked in logs without masking ordinary words. */
export const minClientSecretLength = 6;

/** An absolute path ending in `.pem` or `.key` names a private key file rather than being a secret. */
const keyPathShape = /^\/\S*\.(?:pem|key)$/;

const example = 'https://login.example.com=CLIENT_ID:CLIENT_SECRET';

function readKey(path: string): { pem: string } | { problem: string } {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: `names the key file ${path}, which cannot be read${code ? ` (${code})` : ''}` };
  }
  try {
    createPrivateKey(pem);
  } catch {
    return { problem: `names the key file ${path}, which holds no PEM private key` };
  }
  return { pem };
}

/** The zod field for `HANDOFF_CIBA_CLIENTS`: a map from origin to client. */
export const cibaClientsField = originKeyedEntries<CibaClient>(example, (rest) => {
  const colon = rest.indexOf(':');
  const clientId = colon > 0 ? rest.slice(0, colon).trim() : '';
  const credential = colon > 0 ? rest.slice(colon + 1).trim() : '';
  if (!clientId || clientId.length > 200) return { problem: 'has no client id before ":"' };
  if (keyPathShape.test(credential)) {
    const key = readKey(credential);
    if ('problem' in key) return key;
    return { value: { clientId, kind: 'private_key', keyPath: credential, pem: key.pem } };
  }
  if (credential.length < minClientSecretLength)
    return {
      problem: `has a client secret shorter than ${minClientSecretLength} characters (or none after ":")`,
    };
  return { value: { clientId, kind: 'secret', secret: credential } };
});

/** The variables this fragment adds to the one schema (merged through config-login.ts). */
export const cibaEnv = {
  [cibaClientsVariable]: cibaClientsField.optional(),
  [cibaLoginHintsVariable]: cibaLoginHintsField.optional(),
} as const;
