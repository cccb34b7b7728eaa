import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';

/**
 * Who a request to the fake GitHub is: a personal token, an App installation token, or the
 * App itself (an RS256 JWT signed with the App's private key, checked against its public key
 * as GitHub does). Installation tokens are minted by POST /app/installations/:id/access_tokens
 * with a lifetime the test chooses.
 */
export type Caller =
  | { readonly kind: 'token'; readonly identity: string; readonly login: string }
  | { readonly kind: 'installation'; readonly identity: string; readonly installationId: number }
  | { readonly kind: 'app'; readonly identity: string }
  | { readonly kind: 'none' };

export interface IssuedToken {
  readonly token: string;
  readonly installationId: number;
  readonly expiresAt: number;
}

/** An RSA key pair for a test App, PEM (PKCS#1, as GitHub hands them out). */
export function generateAppKey(): { privateKey: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey, publicKey: createPublicKey(publicKey) };
}

const b64url = (text: string) => Buffer.from(text, 'base64url');

export class FakeGithubAuth {
  /** Personal tokens and the login each belongs to. */
  readonly tokens = new Map<string, string>();
  readonly issued: IssuedToken[] = [];
  app: { readonly id: number; readonly publicKey: KeyObject } | undefined;
  /** Lifetime of the next installation tokens, ms (GitHub: one hour). */
  installationTokenLifetimeMs = 3_600_000;
  /** JWTs that were rejected, for assertions. */
  rejectedJwts = 0;

  addToken(login: string): string {
    const token = `ghp_${randomBytes(18).toString('hex')}`;
    this.tokens.set(token, login);
    return token;
  }

  mintInstallationToken(installationId: number): IssuedToken {
    const issued = {
      token: `ghs_${randomBytes(18).toString('hex')}`,
      installationId,
      expiresAt: Date.now() + this.installationTokenLifetimeMs,
    };
    this.issued.push(issued);
    return issued;
  }

  identify(authorization: string | undefined): Caller {
    const match = /^(token|bearer)\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return { kind: 'none' };
    const secret = match[2]!;
    const login = this.tokens.get(secret);
    if (login) return { kind: 'token', identity: `token:${login}`, login };
    const issued = this.issued.find((t) => t.token === secret);
    if (issued) {
      return issued.expiresAt > Date.now()
        ? {
            kind: 'installation',
            identity: `installation:${issued.installationId}`,
            installationId: issued.installationId,
          }
        : { kind: 'none' };
    }
    if (this.app && this.verifyJwt(secret)) return { kind: 'app', identity: `app:${this.app.id}` };
    if (secret.startsWith('eyJ')) this.rejectedJwts += 1;
    return { kind: 'none' };
  }

  private verifyJwt(jwt: string): boolean {
    const parts = jwt.split('.');
    if (parts.length !== 3 || !this.app) return false;
    const [header, payload, signature] = parts as [string, string, string];
    try {
      const head = JSON.parse(b64url(header).toString('utf8')) as { alg?: string };
      const claims = JSON.parse(b64url(payload).toString('utf8')) as { iss?: unknown; exp?: number; iat?: number };
      if (head.alg !== 'RS256') return false;
      if (!verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), this.app.publicKey, b64url(signature)))
        return false;
      const now = Date.now() / 1000;
      // GitHub: `iss` is the App id (or client id); `exp` at most 10 minutes ahead.
      return (
        String(claims.iss) === String(this.app.id) &&
        typeof claims.exp === 'number' &&
        claims.exp > now &&
        claims.exp - now <= 660
      );
    } catch {
      return false;
    }
  }
}
