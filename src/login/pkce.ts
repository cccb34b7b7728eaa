import { createHash, randomBytes } from 'node:crypto';

/**
 * The agent-sessions PKCE variant (docs/protocols.md, "Agent sessions"): the verifier is random bytes as lowercase
 * hex and the challenge is the lowercase hex SHA-256 of the verifier string. Not RFC 7636 S256.
 */
export function createHexPkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('hex');
  return { verifier, challenge: hexChallenge(verifier) };
}

export function hexChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('hex');
}
