import type { Redis } from '../src/store/redis.js';
import { startHangingServer } from '../test/fakes/services/hanging-server.js';
import { startInprocBridge } from './inproc-bridge.js';
import { summarise, type Summary } from './stats.js';

/**
 * Fairness at a hanging service (issue #10 item 6, issue #16): one agent floods the bridge
 * with handoffs to a service that accepts connections and never answers (127.0.0.2); another
 * agent's handoff to the healthy sandbox is timed from `POST /v1/handoffs` until it awaits a
 * human, before the flood ("usual") and during it.
 */
export interface FairnessResult {
  readonly flood: number;
  readonly usualMs: Summary;
  readonly duringFloodMs: Summary;
  /** Connections the hanging service had accepted when the last bystander was timed. */
  readonly hangingConnections: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function measureFairness(options: {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  logFile: string;
  serviceUrl: string;
  flood: number;
  samples: number;
}): Promise<FairnessResult> {
  const hanging = await startHangingServer('127.0.0.2');
  const bridge = await startInprocBridge({
    prefix: options.prefix,
    redisUrl: options.redisUrl,
    logFile: options.logFile,
    env: {
      HANDOFF_ALLOWED_SERVICES: 'http://127.0.0.1:*,http://127.0.0.2:*',
      HANDOFF_START_TIMEOUT_MS: '30000',
    },
  });
  let n = 0;
  const bystander = async (): Promise<number> => {
    const started = performance.now();
    const created = await bridge.client.createHandoff({
      service: options.serviceUrl,
      thread: `local:fair-victim-${n++}`,
      approvers: ['alice'],
      agent: { id: 'bystander' },
    });
    for (;;) {
      const view = await bridge.client.getHandoff(created.id);
      if (view.status === 'awaiting_human') break;
      if (view.status !== 'pending') throw new Error(`the bystander's handoff ended ${view.status}`);
      if (performance.now() - started > 30_000) throw new Error('the bystander waited 30 s');
      await sleep(5);
    }
    const ms = performance.now() - started;
    await bridge.client.cancelHandoff(created.id);
    return ms;
  };
  try {
    for (let i = 0; i < 3; i++) await bystander(); // warm
    const usual: number[] = [];
    for (let i = 0; i < options.samples; i++) usual.push(await bystander());
    const floods = await Promise.all(
      Array.from({ length: options.flood }, (_, i) =>
        bridge.client.createHandoff({
          service: `${hanging.origin}/api`,
          thread: `local:fair-flood-${i}`,
          approvers: ['alice'],
          agent: { id: 'flooder', correlationId: `flood-${i}` },
        }),
      ),
    );
    while (hanging.connections() < 1) await sleep(10);
    const during: number[] = [];
    for (let i = 0; i < options.samples; i++) during.push(await bystander());
    const hangingConnections = hanging.connections();
    for (const f of floods) await bridge.client.cancelHandoff(f.id).catch(() => undefined);
    return {
      flood: options.flood,
      usualMs: summarise(usual),
      duringFloodMs: summarise(during),
      hangingConnections,
    };
  } finally {
    await hanging.close();
    await bridge.close();
  }
}
