import { createBridgeClient } from '../src/client/bridge-client.js';

/**
 * Opens one handoff in each thread, so replies there are the bridge's business: the intake
 * ignores threads without an open handoff. The inbound benches run server-only bridges, where
 * no driver starts these handoffs; their records are all the intake needs.
 */
export async function openHandoffs(bridgeUrl: string, apiToken: string, threads: readonly string[]): Promise<void> {
  const client = createBridgeClient({ baseUrl: bridgeUrl, apiToken });
  for (const thread of threads) {
    await client.createHandoff({ service: 'http://127.0.0.1:9/never-called', thread, agent: { id: 'bench-inbound' } });
  }
}
