import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { cibaClientsVariable, type CibaClient } from '../core/config-ciba.js';
import { UpstreamError } from '../core/errors.js';
import type { CibaMetadata } from './discovered-service.js';

/**
 * How the bridge authenticates as a CIBA client (CIBA Core §7.1: as at the token endpoint):
 * the operator's credentials for the authorization server's origin (`HANDOFF_CIBA_CLIENTS`),
 * with the method the server's metadata allows. A secret goes by `client_secret_basic` when
 * the server lists it (RFC 8414's default), else `client_secret_post`; a private key only by
 * `private_key_jwt` (RFC 7523, signed by oauth4webapi). Errors name the variable and the
 * origin, never a secret or the key.
 */
export interface CibaClientAuth {
  readonly client: oauth.Client;
  readonly auth: oauth.ClientAuth;
  /** The method chosen, for the thread-free logs and the docs' table. */
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
}

function refused(message: string, code: string): UpstreamError {
  return new UpstreamError(message, { code, upstreamStatus: 0, retry: 'never' });
}

/** WebCrypto's name for a key, by what the server accepts (RS256 unless only PS256 is listed). */
function algorithmFor(
  key: KeyObject,
  algs: readonly string[],
): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm {
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const pss = algs.length > 0 && !algs.includes('RS256') && algs.includes('PS256');
      return { name: pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    }
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
      if (named) return { name: 'ECDSA', namedCurve: named };
      break;
    }
    case 'ed25519':
      return { name: 'Ed25519' };
  }
  throw refused(
    `The private key in ${cibaClientsVariable} is of a kind the bridge does not sign with: use RSA, EC P-256/P-384 or Ed25519.`,
    'ciba_client_key_unsupported',
  );
}

const importedKeys = new WeakMap<CibaClient, Promise<webcrypto.CryptoKey>>();

async function signingKey(client: Extract<CibaClient, { kind: 'private_key' }>, algs: readonly string[]) {
  let imported = importedKeys.get(client);
  if (!imported) {
    const key = createPrivateKey(client.pem);
    const der = key.export({ type: 'pkcs8', format: 'der' });
    imported = webcrypto.subtle.importKey('pkcs8', der, algorithmFor(key, algs), false, ['sign']);
    importedKeys.set(client, imported);
  }
  return imported;
}

/** The configured client for `origin`, authenticated as `metadata` allows. */
export async function cibaClientAuth(
  clients: Readonly<Record<string, CibaClient>>,
  origin: string,
  metadata: Pick<CibaMetadata, 'authMethods' | 'signingAlgs'>,
): Promise<CibaClientAuth> {
  const configured = clients[origin];
  if (!configured) {
    throw refused(
      `The bridge has no CIBA client at ${origin}: the operator adds one to ${cibaClientsVariable} (${origin}=CLIENT_ID:CLIENT_SECRET, or a private key path for private_key_jwt).`,
      'ciba_client_not_configured',
    );
  }
  const methods = metadata.authMethods;
  if (configured.kind === 'private_key') {
    if (!methods.includes('private_key_jwt')) {
      throw refused(
        `${origin} does not accept private_key_jwt, and ${cibaClientsVariable} gives a private key for it: give a client secret instead.`,
        'ciba_auth_method_unsupported',
      );
    }
    const key = await signingKey(configured, metadata.signingAlgs);
    return {
      client: { client_id: configured.clientId, token_endpoint_auth_method: 'private_key_jwt' },
      auth: oauth.PrivateKeyJwt(key),
      method: 'private_key_jwt',
    };
  }
  const method = methods.includes('client_secret_basic')
    ? 'client_secret_basic'
    : methods.includes('client_secret_post')
      ? 'client_secret_post'
      : undefined;
  if (!method) {
    throw refused(
      `${origin} accepts neither client_secret_basic nor client_secret_post, and ${cibaClientsVariable} gives a client secret: give a private key path for private_key_jwt if it lists that.`,
      'ciba_auth_method_unsupported',
    );
  }
  return {
    client: { client_id: configured.clientId, token_endpoint_auth_method: method },
    auth:
      method === 'client_secret_basic'
        ? oauth.ClientSecretBasic(configured.secret)
        : oauth.ClientSecretPost(configured.secret),
    method,
  };
}

/** Literal patterns of every configured client secret, so logs and errors mask them (src/core/secret-patterns.ts). */
export function clientSecretShapes(clients: Readonly<Record<string, CibaClient>>): RegExp[] {
  return Object.values(clients).flatMap((c) =>
    c.kind === 'secret' ? [new RegExp(c.secret.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'g')] : [],
  );
}
