import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/core/secret-patterns.js';
import type { IssuedCredential, LoginProtocol, LoginRequest, Started } from '../../src/core/login-protocol.js';

/**
 * What every login protocol must do against a service that speaks it. Each protocol's test
 * file calls `describeLoginProtocolContract` with a harness around a real service over HTTP
 * (the sandbox) that can play the human: approve in the browser and read what they would paste.
 */
export interface LoginProtocolHarness {
  readonly protocol: LoginProtocol;
  /** A fresh request for this protocol's service. */
  request(): LoginRequest;
  /** Does what the human does at the service; returns what they would paste back. */
  approve(started: Started): Promise<string>;
  /**
   * An answer of the right shape that the service will reject; undefined for protocols whose
   * answer is only "done" (there is no wrong one: answering before approving is what fails).
   */
  wrongAnswer(started: Started): string | undefined;
  /** True when the service accepts the credential on its protected API. */
  accepts(credential: IssuedCredential): Promise<boolean>;
  /**
   * The email `approve` signs in with, when this service tells clients who approved (the
   * protocol must then report it in `approvedBy`); undefined when it cannot know.
   */
  readonly approverEmail?: string;
  /** The agent headers the service saw on its most recent calls. */
  seenAgentHeaders(): Array<{ agentId: string | undefined; correlationId: string | undefined }>;
  close(): Promise<void>;
}

export function describeLoginProtocolContract(name: string, setup: () => Promise<LoginProtocolHarness>): void {
  describe(`LoginProtocol contract: ${name}`, () => {
    let h: LoginProtocolHarness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => h?.close());

    const ctx = (req: LoginRequest) => ({ agentId: req.agentId, correlationId: req.correlationId });

    it("starts a login: an approval URL (or none: approval on the person's device), a future expiry, what to answer, a JSON secret whose secret values stay out of the URL", async () => {
      const req = h.request();
      const started = await h.protocol.start(req);
      // Without a link the person approves on their own device and the bridge polls: "done" is the only answer.
      if (started.approvalUrl === undefined)
        expect([started.answer, typeof h.protocol.poll]).toEqual(['done', 'function']);
      else expect(new URL(started.approvalUrl).protocol).toMatch(/^https?:$/);
      expect(started.expiresAt).toBeGreaterThan(Date.now());
      expect(['finish_code', 'email_code', 'page_code', 'done']).toContain(started.answer);
      const secret = JSON.parse(JSON.stringify(started.secret)) as Record<string, unknown>;
      expect(secret).toEqual(started.secret);
      for (const value of findSecrets(JSON.stringify(secret))) expect(started.approvalUrl ?? '').not.toContain(value);
      expect(h.seenAgentHeaders().at(-1)).toEqual({ agentId: req.agentId, correlationId: req.correlationId });
    });

    it('turns a wrong (or premature) answer into wrong_code, and the right one into a credential the service accepts', async () => {
      const req = h.request();
      const started = await h.protocol.start(req);
      const wrongAnswer = h.wrongAnswer(started);
      if (wrongAnswer === undefined) {
        expect(started.answer).toBe('done');
        expect((await h.protocol.complete(started.secret, 'done', ctx(req))).kind).toBe('wrong_code');
      }
      const answer = await h.approve(started);
      if (wrongAnswer !== undefined)
        expect((await h.protocol.complete(started.secret, wrongAnswer, ctx(req))).kind).toBe('wrong_code');
      const done = await h.protocol.complete(started.secret, answer, ctx(req));
      expect(done.kind).toBe('credential');
      if (done.kind !== 'credential') return;
      expect(done.credential.tokenType).toBe('Bearer');
      expect(done.credential.accessToken.length).toBeGreaterThan(10);
      expect(Array.isArray(done.credential.scopes)).toBe(true);
      expect(await h.accepts(done.credential)).toBe(true);
      expect(h.seenAgentHeaders().at(-1)).toEqual(ctx(req));
    });

    it('says who approved when the service tells (the engine binds completion to the approvers with it)', async () => {
      if (h.approverEmail === undefined) return;
      const req = h.request();
      const started = await h.protocol.start(req);
      const answer = await h.approve(started);
      // A login the protocol cannot poll (`polls: false`) is finished by the answer alone.
      if (h.protocol.poll && started.polls !== false) {
        const polled = await h.protocol.poll(started.secret, ctx(req));
        expect(
          polled.kind === 'approved' || polled.kind === 'credential' ? polled.approvedBy?.email : polled.kind,
        ).toBe(h.approverEmail);
        if (polled.kind === 'credential') return; // the poll itself finished the login
      }
      const done = await h.protocol.complete(started.secret, answer, ctx(req));
      expect(done.kind === 'credential' ? done.approvedBy?.email : done.kind).toBe(h.approverEmail);
    });

    it('never issues a second credential for the same answer', async () => {
      const req = h.request();
      const started = await h.protocol.start(req);
      const answer = await h.approve(started);
      expect((await h.protocol.complete(started.secret, answer, ctx(req))).kind).toBe('credential');
      const again = await h.protocol.complete(started.secret, answer, ctx(req));
      expect(['already_exchanged', 'fatal']).toContain(again.kind);
    });

    it('polls: pending before the human acts, finished after', async () => {
      if (!h.protocol.poll) return expect(h.protocol.poll).toBeUndefined();
      const req = h.request();
      const started = await h.protocol.start(req);
      expect((await h.protocol.poll(started.secret, ctx(req))).kind).toBe('pending');
      await h.approve(started);
      const after = (await h.protocol.poll(started.secret, ctx(req))).kind;
      // A login the protocol says it cannot poll stays pending to a poll: only the answer finishes it.
      if (started.polls === false) return expect(after).toBe('pending');
      expect(['approved', 'credential']).toContain(after);
    });

    it('refreshes to a new working token and revokes so the service rejects it', async () => {
      const req = h.request();
      const started = await h.protocol.start(req);
      const done = await h.protocol.complete(started.secret, await h.approve(started), ctx(req));
      if (done.kind !== 'credential') throw new Error(`expected a credential, got ${done.kind}`);
      let credential = done.credential;
      if (h.protocol.refresh && credential.refreshToken) {
        const fresh = await h.protocol.refresh(credential, req.service, ctx(req));
        expect(fresh.accessToken).not.toBe(credential.accessToken);
        expect(await h.accepts(fresh)).toBe(true);
        credential = fresh;
      }
      if (!h.protocol.revoke) return expect(h.protocol.revoke).toBeUndefined();
      await h.protocol.revoke(credential, req.service, ctx(req));
      expect(await h.accepts(credential)).toBe(false);
    });
  });
}
