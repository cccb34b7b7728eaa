import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/processes.js';

/**
 * The `handoff` command talks to its bridge over node:http(s) (src/client/bridge-http.ts), not
 * fetch: here an https bridge with a certificate of its own, as a deployment behind TLS has.
 * The command trusts it only when told to (NODE_EXTRA_CA_CERTS), and sends its token only
 * over the verified connection.
 */
describe('the CLI against an https bridge', () => {
  let dir: string;
  let server: Server;
  let url: string;
  const seen: Array<{ path: string; authorization?: string }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handoff-tls-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    server = createServer(
      { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
      (req, res) => {
        seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"handoffs":[]}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a certificate it does not trust before sending the token (exit 1, says it cannot reach the bridge)', async () => {
    const env = { HANDOFF_URL: url, HANDOFF_API_TOKEN: 'token-0123456789abcdef' };
    const result = await runCli('tls-untrusted', ['status', '--json'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot reach the bridge at ${url}`);
    expect(result.stderr).toMatch(/self[- ]signed|certificate/i);
    expect(result.stderr).not.toContain('token-0123456789abcdef');
    expect(seen).toEqual([]);
  });

  it('with the certificate trusted, lists the open handoffs over TLS with the token', async () => {
    const env = {
      HANDOFF_URL: url,
      HANDOFF_API_TOKEN: 'token-0123456789abcdef',
      NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'),
    };
    const result = await runCli('tls-trusted', ['status', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ handoffs: [] });
    expect(seen).toEqual([
      { path: '/v1/handoffs?limit=50&status=open', authorization: 'Bearer token-0123456789abcdef' },
    ]);
  });
});
