import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffError, RateLimitedError } from '../../src/core/errors.js';
import type { ApprovalRequestMessage, NoticeMessage } from '../../src/core/messages.js';
import type { MessageRef, Person, ThreadAdapter } from '../../src/core/thread-adapter.js';

/**
 * What every thread adapter must do, whatever its platform. Each adapter's test file calls
 * `describeThreadAdapterContract` with a harness that builds the adapter against its real
 * SDK and a fake platform (or, for local, the real store) and can read the thread back.
 */
export interface ThreadAdapterHarness {
  readonly adapter: ThreadAdapter;
  /** A thread the harness can read back. */
  readonly thread: string;
  /** Refs of this platform that must be rejected. */
  readonly invalidThreads: readonly string[];
  /** The thread's messages as the platform would show them, as plain text. */
  readThread(ref: string): Promise<Array<{ id: string; text: string }>>;
  /** Puts a message from a person into the thread (to react to and redact). */
  postAsHuman(ref: string, text: string): Promise<MessageRef>;
  /** For an adapter with `answerPrivately`: the person to answer, and what they alone see in a thread. */
  readonly privateAnswers?: {
    readonly to: Person;
    read(ref: string): Promise<string[]>;
  };
  /** A well-formed id of a message that does not exist in the thread (for `update`). */
  readonly missingMessageId?: string;
  /** Makes the platform answer the next edit with a rate limit (Retry-After 3 s), where it has one. */
  rateLimitNextEdit?(): void;
  close(): Promise<void>;
}

const approval = (over: Partial<ApprovalRequestMessage> = {}): ApprovalRequestMessage => ({
  kind: 'approval_request',
  handoffId: 'hf_0123456789abcdef01234567',
  handoffTag: '#h-0123',
  serviceName: 'Contract Analytics',
  serviceUrl: 'https://api.contract.example',
  agentId: 'contract-agent',
  scopes: ['account:read', 'projects:read'],
  approvalUrl: 'https://contract.example/authorize/ar_contract123',
  answer: 'finish_code',
  expiresAt: Date.now() + 30 * 60_000,
  approvers: ['alice'],
  ...over,
});

const notice = (text: string, event: NoticeMessage['event'] = 'info'): NoticeMessage => ({
  kind: 'notice',
  handoffId: 'hf_0123456789abcdef01234567',
  event,
  text: [text],
});

export function describeThreadAdapterContract(name: string, setup: () => Promise<ThreadAdapterHarness>): void {
  describe(`ThreadAdapter contract: ${name}`, () => {
    let h: ThreadAdapterHarness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => h?.close());

    it('parses its own refs to a stable canonical form on its platform', () => {
      const parsed = h.adapter.parseThread(h.thread);
      expect(parsed.platform).toBe(h.adapter.platform);
      expect(parsed.ref.startsWith(`${h.adapter.platform}:`)).toBe(true);
      expect(h.adapter.parseThread(parsed.ref).ref).toBe(parsed.ref);
    });

    it('rejects malformed refs with a 400 invalid_thread_ref that shows a good example', () => {
      expect(h.invalidThreads.length).toBeGreaterThan(0);
      for (const bad of h.invalidThreads) {
        let caught: unknown;
        try {
          h.adapter.parseThread(bad);
        } catch (err) {
          caught = err;
        }
        expect(caught, bad).toBeInstanceOf(HandoffError);
        expect((caught as HandoffError).code).toBe('invalid_thread_ref');
        expect((caught as HandoffError).status).toBe(400);
        expect((caught as HandoffError).message).toMatch(/expected something like "\w+:/);
      }
    });

    it('posts an approval request that shows the service, the link, who may answer and the expiry', async () => {
      const thread = h.adapter.parseThread(h.thread);
      const ref = await h.adapter.post(thread, approval());
      expect(ref).toMatchObject({ platform: h.adapter.platform, thread: thread.ref });
      expect(ref.id).toBeTruthy();
      const shown = (await h.readThread(thread.ref)).find((m) => m.id === ref.id);
      expect(shown, 'the posted message is in the thread').toBeDefined();
      expect(shown!.text).toContain('Contract Analytics');
      expect(shown!.text).toContain('https://contract.example/authorize/ar_contract123');
      expect(shown!.text).toContain('alice');
      expect(shown!.text).toMatch(/expire/i);
    });

    it('shows the service host and the host the link opens, and labels the name the service gives itself', async () => {
      const thread = h.adapter.parseThread(h.thread);
      const ref = await h.adapter.post(
        thread,
        approval({
          serviceName: 'Google Workspace',
          serviceUrl: 'https://api.google.com.evil.example',
          approvalUrl: 'https://accounts.google.com.evil.example/authorize/ar_x',
        }),
      );
      const shown = (await h.readThread(thread.ref)).find((m) => m.id === ref.id)!.text;
      expect(shown).toContain('api.google.com.evil.example');
      expect(shown).toMatch(/opens\W+accounts\.google\.com\.evil\.example/);
      expect(shown).toMatch(/calls itself\W+Google Workspace/);
    });

    it('leaves the link out of the thread copy when it was sent privately', async () => {
      const thread = h.adapter.parseThread(h.thread);
      const ref = await h.adapter.post(thread, approval({ linkSentPrivately: true }));
      const shown = (await h.readThread(thread.ref)).find((m) => m.id === ref.id);
      expect(shown!.text).not.toContain('ar_contract123');
      expect(shown!.text).toMatch(/privately/i);
    });

    it('posts notices verbatim', async () => {
      const thread = h.adapter.parseThread(h.thread);
      const ref = await h.adapter.post(thread, notice('That code did not work (attempt 1 of 5).'));
      const shown = (await h.readThread(thread.ref)).find((m) => m.id === ref.id);
      expect(shown!.text).toContain('That code did not work (attempt 1 of 5).');
    });

    it('answers one person privately when it can: they see it, the thread does not', async () => {
      if (!h.adapter.answerPrivately) return expect(h.adapter.answerPrivately).toBeUndefined();
      expect(h.privateAnswers, 'a harness for an adapter with answerPrivately reads private answers').toBeDefined();
      const thread = h.adapter.parseThread(h.thread);
      const text = 'You may not decide this one (contract check).';
      const ref = await h.adapter.answerPrivately(thread, h.privateAnswers!.to, notice(text));
      expect(ref).toMatchObject({ platform: thread.platform, thread: thread.ref });
      expect((await h.privateAnswers!.read(thread.ref)).join('\n')).toContain(text);
      expect((await h.readThread(thread.ref)).map((m) => m.text).join('\n')).not.toContain(text);
    });

    it('reacts to a person’s message when it can', async () => {
      if (!h.adapter.react) return expect(h.adapter.react).toBeUndefined();
      const human = await h.postAsHuman(h.thread, 'here you go');
      await expect(h.adapter.react(human, 'seen')).resolves.toBeUndefined();
      await expect(h.adapter.react(human, 'ok')).resolves.toBeUndefined();
    });

    it('removes a spent code from the thread when it can redact', async () => {
      if (!h.adapter.redact) return expect(h.adapter.redact).toBeUndefined();
      const code = `aae_${'c0ffee'.repeat(8)}`;
      const human = await h.postAsHuman(h.thread, `finish code: ${code}`);
      const outcome = await h.adapter.redact(human);
      expect(['deleted', 'hidden']).toContain(outcome);
      const texts = (await h.readThread(h.thread)).map((m) => m.text).join('\n');
      expect(texts).not.toContain(code);
    });

    it('edits a message it posted in place: same id, new content, nothing new in the thread', async () => {
      if (!h.adapter.update) return expect(h.adapter.update).toBeUndefined();
      const thread = h.adapter.parseThread(h.thread);
      const ref = await h.adapter.post(thread, notice('Approvals so far: 1 of 2.', 'approval_asked'));
      const before = (await h.readThread(thread.ref)).length;
      await h.adapter.update(ref, notice('Approved by alice and bob.', 'approval_settled'), { idempotencyKey: 'e1' });
      const after = await h.readThread(thread.ref);
      expect(after).toHaveLength(before);
      const shown = after.find((m) => m.id === ref.id)!.text;
      expect(shown).toContain('Approved by alice and bob.');
      expect(shown).not.toContain('1 of 2');
      // The same edit again (a retried job) changes nothing more.
      await h.adapter.update(ref, notice('Approved by alice and bob.', 'approval_settled'), { idempotencyKey: 'e1' });
      expect((await h.readThread(thread.ref)).find((m) => m.id === ref.id)!.text).toBe(shown);
    });

    it('leaves a message that no longer exists alone when asked to edit it', async () => {
      if (!h.adapter.update) return expect(h.adapter.update).toBeUndefined();
      expect(h.missingMessageId, 'the harness names a missing message').toBeDefined();
      const thread = h.adapter.parseThread(h.thread);
      const gone: MessageRef = { platform: h.adapter.platform, thread: thread.ref, id: h.missingMessageId! };
      await expect(h.adapter.update(gone, notice('too late'))).resolves.toBeUndefined();
      expect((await h.readThread(thread.ref)).map((m) => m.text).join('\n')).not.toContain('too late');
    });

    it('reports a rate limit on an edit as RateLimitedError with the platform’s wait, like a post', async () => {
      if (!h.adapter.update || !h.rateLimitNextEdit) return expect(h.rateLimitNextEdit).toBeUndefined();
      const thread = h.adapter.parseThread(h.thread);
      const ref = await h.adapter.post(thread, notice('before the limit'));
      h.rateLimitNextEdit();
      const err = await h.adapter.update(ref, notice('after the limit')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitedError);
      expect((err as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(1_000);
      expect((await h.readThread(thread.ref)).find((m) => m.id === ref.id)!.text).toContain('before the limit');
    });
  });
}
