import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { systemClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/core/config.js';
import { RateLimitedError } from '../../src/core/errors.js';
import type { PollScope } from '../../src/core/inbound-poller.js';
import type { PlatformDescriptor, PlatformModule } from '../../src/core/platform.js';
import type { InboundAck, InboundReply, Person } from '../../src/core/thread-adapter.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';

/**
 * What every platform that polls must do: group open threads into scopes, hand each new reply
 * on once (a cursor moves past it), ask conditionally where the platform allows so an
 * unchanged thread costs nothing, and turn a rate limit into a wait without losing the reply.
 * Run through each polling platform's fake by its test file.
 */
export interface PollingHarness {
  readonly descriptor: PlatformDescriptor;
  /** Variables that configure the platform against its fake, polling on. */
  readonly env: Readonly<Record<string, string>>;
  readonly thread: string;
  readonly approver: Person;
  /** A person's reply in the thread on the fake, written `delayMs` from now (timestamps matter to cursors). */
  addReply(author: Person, text: string, delayMs: number): Promise<void>;
  /** How many poll requests the fake answered "not modified" (absent: no conditional requests on this platform). */
  notModified?(): number;
  /** Makes the fake answer the next poll request with a rate limit of `retryAfterS`. */
  rateLimitNext(retryAfterS: number): void;
  close(): Promise<void>;
}

export function describePollingContract(name: string, setup: () => Promise<PollingHarness>): void {
  describe(`Polling contract: ${name}`, () => {
    let h: PollingHarness;
    let module: PlatformModule;
    let scope: PollScope;
    const replies: InboundReply[] = [];
    const seen = new Set<string>();
    const redis = connectTestRedis();
    const prefix = randomPrefix(`polling-${name}`);
    let delay = 2_000;

    beforeAll(async () => {
      h = await setup();
      const config = loadConfig({ NODE_ENV: 'development', ...h.env }, [h.descriptor]);
      module = await config.platforms[0]!.create({
        publicBaseUrl: () => undefined,
        store: redisKeyValue(redis, `${prefix}:${h.descriptor.name}`),
        sink: async (reply): Promise<InboundAck> => {
          if (seen.has(reply.deliveryId)) return 'duplicate';
          seen.add(reply.deliveryId);
          replies.push(reply);
          return 'accepted';
        },
        clock: systemClock,
        logger: captureLogs(`polling-${name}`).logger,
        linkOpened: async () => undefined,
        maxHandoffLifetimeMs: 24 * 3_600_000,
      });
      await module.start?.();
      // Polling starts at the bridge's approval request.
      await module.adapter.post(module.adapter.parseThread(h.thread), {
        kind: 'approval_request',
        handoffId: 'hf_0123456789abcdef01234567',
        handoffTag: '#h-0123',
        serviceName: 'Contract Analytics',
        serviceUrl: 'https://api.contract.example',
        agentId: 'contract-agent',
        scopes: ['account:read'],
        approvalUrl: 'https://contract.example/authorize/ar_contract123',
        answer: 'finish_code',
        expiresAt: Date.now() + 30 * 60_000,
        approvers: [],
      });
    });

    afterAll(async () => {
      await module?.stop?.();
      await h?.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    });

    it('polls, and groups the open threads into scopes that cover them', () => {
      expect(module.poller, 'the platform polls when configured to').toBeDefined();
      const canonical = module.adapter.parseThread(h.thread).ref;
      const scopes = module.poller!.scopes([canonical]);
      expect(scopes).toHaveLength(1);
      expect(scopes[0]!.threads).toEqual([canonical]);
      expect(module.poller!.tickMs).toBeGreaterThan(0);
      scope = scopes[0]!;
    });

    it('hands a new reply on once: the cursor moves past it', async () => {
      await h.addReply(h.approver, 'first answer', (delay += 2_000));
      const next = await module.poller!.poll(scope);
      expect(next.nextPollMs).toBeGreaterThan(0);
      expect(replies.map((r) => r.text)).toEqual(['first answer']);
      expect(replies[0]).toMatchObject({
        platform: h.descriptor.name,
        thread: scope.threads[0],
        author: { id: h.approver.id },
      });
      await module.poller!.poll(scope);
      await module.poller!.poll(scope);
      expect(replies).toHaveLength(1);
    });

    it('asks conditionally, where the platform allows, so an unchanged thread costs nothing', async () => {
      if (!h.notModified) return;
      const before = h.notModified();
      await module.poller!.poll(scope);
      await module.poller!.poll(scope);
      expect(h.notModified()).toBeGreaterThan(before);
      expect(replies).toHaveLength(1);
    });

    it('turns a rate limit into a wait, and the reply still comes on the next poll', async () => {
      await h.addReply(h.approver, 'second answer', (delay += 2_000));
      h.rateLimitNext(7);
      const outcome = await module.poller!.poll(scope).then(
        (next) => ({ waitMs: next.nextPollMs }),
        (err: unknown) => {
          expect(err).toBeInstanceOf(RateLimitedError);
          return { waitMs: (err as RateLimitedError).retryAfterMs ?? 0 };
        },
      );
      expect(outcome.waitMs).toBeGreaterThanOrEqual(7_000);
      expect(replies).toHaveLength(1);
      await module.poller!.poll(scope);
      expect(replies.map((r) => r.text)).toEqual(['first answer', 'second answer']);
    });
  });
}
