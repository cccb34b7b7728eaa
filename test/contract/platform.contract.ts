import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { systemClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/core/config.js';
import { HandoffError } from '../../src/core/errors.js';
import type { NoticeMessage } from '../../src/core/messages.js';
import type { PlatformDescriptor, PlatformModule } from '../../src/core/platform.js';
import { registerSecretShapes, maskSecrets } from '../../src/core/secret-patterns.js';
import type { InboundAck, InboundReply, MessageRef, Person } from '../../src/core/thread-adapter.js';
import { createHttpServer } from '../../src/http/http-server.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';

/**
 * What every platform must do, whatever it is: the descriptor half (a name that is its refs'
 * prefix, its own config variables, its secret shapes, help) and the inbound half (a signed
 * delivery becomes one reply; a duplicate delivery is the same reply; the bridge's own message
 * coming back and an edit are not new answers; a forged delivery is refused; someone the
 * platform's rules do not admit is refused as an approver). Each platform's test file calls
 * `describePlatformContract` with a harness that drives the platform's fake the way the real
 * platform would: its SDK for outbound, its own signing for inbound. The outbound half is
 * `describeThreadAdapterContract` (thread-adapter.contract.ts); polling is
 * `describePollingContract` (polling.contract.ts).
 */
export interface InboundDelivery {
  readonly author: Person;
  readonly text: string;
  /** The platform's delivery id (sent again for a redelivery). */
  readonly deliveryId: string;
  /** The platform's id of the message (a redelivery and an edit name the same one). */
  readonly messageId: string;
}

export interface PlatformHarness {
  readonly descriptor: PlatformDescriptor;
  /** Variables that configure the platform against its fake. */
  readonly env: Readonly<Record<string, string>>;
  /** A variable of the platform and a value it refuses. */
  readonly invalidEnv?: readonly [variable: string, value: string];
  /** A token of the platform's shape, which every log line must mask. */
  readonly secretSample?: string;
  /** A thread on the fake where `approver` may answer. */
  readonly thread: string;
  readonly approver: Person;
  /** Someone in the thread whom the platform's rules do not admit as an approver. */
  readonly stranger: Person;
  /** A fresh id for a person's message (the fake's own, where it has one). */
  newMessage(author: Person, text: string): Promise<string>;
  /**
   * The web page `threadLink` gives for `thread` (the platform's own link to it), given the
   * bridge's address; absent: the platform has no `threadLink`.
   */
  threadLink?(bridgeUrl: string): string;
  /** Sends a signed delivery of a person's message, as the platform does, to the bridge at `url`. */
  deliver(url: string, delivery: InboundDelivery): Promise<number>;
  /** Sends a signed delivery saying that message was edited to `delivery.text`. */
  deliverEdit?(url: string, delivery: InboundDelivery): Promise<number>;
  /** Sends the delivery the platform makes for the bridge's own posted message. */
  deliverEcho?(url: string, posted: MessageRef, text: string): Promise<number>;
  /** Sends a delivery signed with a wrong secret. */
  deliverForged?(url: string, delivery: InboundDelivery): Promise<number>;
  close(): Promise<void>;
}

const notice = (text: string): NoticeMessage => ({
  kind: 'notice',
  handoffId: 'hf_0123456789abcdef01234567',
  event: 'info',
  text: [text],
});

let counter = 0;
const deliveryId = () => `d-${process.pid}-${Date.now()}-${++counter}`;

export function describePlatformContract(name: string, setup: () => Promise<PlatformHarness>): void {
  describe(`Platform contract: ${name}`, () => {
    let h: PlatformHarness;
    let module: PlatformModule;
    let url: string;
    let server: ReturnType<typeof createHttpServer>;
    const replies: InboundReply[] = [];
    const seen = new Set<string>();
    const redis = connectTestRedis();
    const prefix = randomPrefix(`platform-${name}`);

    beforeAll(async () => {
      h = await setup();
      const config = loadConfig({ NODE_ENV: 'development', ...h.env }, [h.descriptor]);
      const configured = config.platforms.find((p) => p.name === h.descriptor.name);
      expect(configured, 'the environment configures the platform').toBeDefined();
      const { logger } = captureLogs(`platform-${name}`);
      module = await configured!.create({
        store: redisKeyValue(redis, `${prefix}:${h.descriptor.name}`),
        // The bridge's sink dedupes by delivery id; this one does the same and keeps what it took.
        sink: async (reply): Promise<InboundAck> => {
          if (seen.has(reply.deliveryId)) return 'duplicate';
          seen.add(reply.deliveryId);
          replies.push(reply);
          return 'accepted';
        },
        clock: systemClock,
        logger: logger.child({ platform: h.descriptor.name }),
        linkOpened: async () => undefined,
        maxHandoffLifetimeMs: 24 * 3_600_000,
        publicBaseUrl: () => url,
      });
      await module.start?.();
      server = createHttpServer({ routes: module.routes ?? [], logger, ownHosts: () => ownHosts });
      let ownHosts: ReadonlySet<string> = new Set();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      ownHosts = new Set([`127.0.0.1:${port}`]);
      url = `http://127.0.0.1:${port}`;
    });

    afterAll(async () => {
      await module?.stop?.();
      if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      await h?.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    });

    describe('descriptor', () => {
      it('is named by its lower-case thread prefix and parses its example to a stable ref', () => {
        const d = h.descriptor;
        expect(d.name).toMatch(/^[a-z][a-z0-9-]*$/);
        const parsed = d.parseThread(d.threadExample);
        expect(parsed.platform).toBe(d.name);
        expect(parsed.ref.startsWith(`${d.name}:`)).toBe(true);
        expect(d.parseThread(parsed.ref).ref).toBe(parsed.ref);
        expect(module.adapter.platform).toBe(d.name);
        expect(module.adapter.parseThread(h.thread).ref).toBe(d.parseThread(h.thread).ref);
      });

      it('rejects a ref of another platform with invalid_thread_ref', () => {
        let caught: unknown;
        try {
          h.descriptor.parseThread(`zz-${h.descriptor.name}:x`);
        } catch (err) {
          caught = err;
        }
        expect((caught as HandoffError).code).toBe('invalid_thread_ref');
      });

      it('owns its variables: upper-case, its secrets among them, none of the bridge’s', () => {
        const d = h.descriptor;
        const names = Object.keys(d.env);
        for (const n of names) expect(n).toMatch(/^[A-Z][A-Z0-9_]*$/);
        for (const secret of d.secretVariables) expect(names).toContain(secret);
        expect(names.filter((n) => n.startsWith('HANDOFF_') || ['PORT', 'HOST', 'REDIS_URL'].includes(n))).toEqual([]);
        expect(d.howToEnable.length).toBeGreaterThan(10);
      });

      it('is not configured by an environment without its variables, and names its variable when set wrong', () => {
        expect(loadConfig({ NODE_ENV: 'development' }, [h.descriptor]).platforms).toEqual([]);
        if (!h.invalidEnv) return;
        const [variable, wrong] = h.invalidEnv;
        expect(() => loadConfig({ NODE_ENV: 'development', ...h.env, [variable]: wrong }, [h.descriptor])).toThrow(
          new RegExp(variable),
        );
      });

      it('masks its token shapes once registered', () => {
        for (const shape of h.descriptor.secretShapes) expect(shape.global).toBe(true);
        if (!h.secretSample) return expect(h.descriptor.secretShapes).toEqual([]);
        registerSecretShapes(h.descriptor.secretShapes);
        expect(maskSecrets(`token ${h.secretSample} leaked`)).toBe('token [redacted] leaked');
      });
    });

    describe('thread link', () => {
      it('gives the thread’s own web page (http(s)), or has no threadLink', async () => {
        const thread = module.adapter.parseThread(h.thread);
        if (!h.threadLink) return expect(module.adapter.threadLink).toBeUndefined();
        const link = await module.adapter.threadLink!(thread);
        expect(link).toBe(h.threadLink(url));
        expect(new URL(link!).protocol).toMatch(/^https?:$/);
      });
    });

    describe('inbound', () => {
      // A platform watches the threads the bridge asked in: an approval request comes first.
      beforeAll(async () => {
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

      it('turns a signed delivery of a person’s message into exactly one reply', async () => {
        const before = replies.length;
        const text = `the code is aae_${'ab12'.repeat(6)}`;
        const d = {
          author: h.approver,
          text,
          deliveryId: deliveryId(),
          messageId: await h.newMessage(h.approver, text),
        };
        expect(await h.deliver(url, d)).toBeLessThan(300);
        const got = replies.slice(before);
        expect(got).toHaveLength(1);
        expect(got[0]).toMatchObject({
          platform: h.descriptor.name,
          thread: h.descriptor.parseThread(h.thread).ref,
          author: { id: h.approver.id },
          text,
        });
        expect(got[0]!.messageRef.platform).toBe(h.descriptor.name);
      });

      it('hands a redelivery over with the same delivery id, so it is one reply', async () => {
        const before = replies.length;
        const text = 'done';
        const d = {
          author: h.approver,
          text,
          deliveryId: deliveryId(),
          messageId: await h.newMessage(h.approver, text),
        };
        expect(await h.deliver(url, d)).toBeLessThan(300);
        expect(await h.deliver(url, d)).toBeLessThan(300);
        expect(replies.slice(before)).toHaveLength(1);
      });

      it('never takes the bridge’s own message for a reply', async () => {
        if (!h.deliverEcho) return;
        const before = replies.length;
        const posted = await module.adapter.post(
          module.adapter.parseThread(h.thread),
          notice('Reply with aae_x to finish.'),
        );
        expect(await h.deliverEcho(url, posted, 'Reply with aae_x to finish.')).toBeLessThan(300);
        expect(replies.slice(before)).toEqual([]);
      });

      it('does not take an edit for a second answer under the first one’s delivery id', async () => {
        if (!h.deliverEdit) return;
        const text = 'first';
        const messageId = await h.newMessage(h.approver, text);
        const first = { author: h.approver, text, deliveryId: deliveryId(), messageId };
        await h.deliver(url, first);
        const before = replies.length;
        expect(await h.deliverEdit(url, { ...first, text: 'edited', deliveryId: deliveryId() })).toBeLessThan(300);
        // An edit is either ignored or a reply of its own (its own delivery), never the first one again.
        for (const r of replies.slice(before)) expect(r.deliveryId).not.toBe(replies[before - 1]!.deliveryId);
        expect(replies.slice(before).length).toBeLessThanOrEqual(1);
      });

      it('refuses a forged delivery without a reply', async () => {
        if (!h.deliverForged) return;
        const before = replies.length;
        const d = {
          author: h.approver,
          text: 'done',
          deliveryId: deliveryId(),
          messageId: await h.newMessage(h.approver, 'done'),
        };
        const status = await h.deliverForged(url, d);
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
        expect(replies.slice(before)).toEqual([]);
      });

      it('admits the approver and refuses someone its rules do not admit', async () => {
        const check = module.adapter.checkApprover;
        if (!check) return;
        const thread = module.adapter.parseThread(h.thread);
        expect((await check.call(module.adapter, thread, h.approver, [])).allowed).toBe(true);
        // With no names, a platform rule (repository access, the assignee…) decides;
        // without one, anyone in the thread may answer, by design.
        const ruled = module.adapter.unnamedApprovers === 'platform_rule';
        expect((await check.call(module.adapter, thread, h.stranger, [])).allowed).toBe(!ruled);
        // Naming approvers narrows who may answer to them.
        expect((await check.call(module.adapter, thread, h.stranger, [h.approver.id])).allowed).toBe(false);
        expect((await check.call(module.adapter, thread, h.approver, [h.approver.id])).allowed).toBe(true);
      });
    });
  });
}
