import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodeLocalMessage,
  encodeLocalMessage,
  localMessageDictionary,
  plainUpTo,
  storedId,
} from '../../adapters/local/local-message-codec.js';
import type { LocalMessage } from '../../adapters/local/local-thread-store.js';
import { renderPlainText } from '../../src/core/messages.js';

const loginRequest = (): LocalMessage => {
  const link = 'http://127.0.0.1:39793/sandbox/authorize/ar_8b0fdc72f1c14b40e1040d35';
  return {
    id: 'wait2-48213.68e2aac693130901',
    author: 'handoff',
    kind: 'bot',
    at: 1_796_271_837_204,
    text: renderPlainText({
      kind: 'approval_request',
      handoffId: 'hf_445c01d610f8339bd05ff17b',
      handoffTag: '#h-445c',
      serviceName: 'Sandbox Analytics',
      serviceUrl: 'http://127.0.0.1:39793/sandbox',
      agentId: 'bench-agent',
      scopes: [],
      approvalUrl: link,
      answer: 'finish_code',
      expiresAt: 1_796_273_637_084,
      approvers: ['alice'],
    }),
    link,
    opens: '#h-445c',
    reactions: [],
    redacted: false,
  };
};

describe('local thread message storage', () => {
  it('gives back exactly the message it stored, defaults included', () => {
    const message = loginRequest();
    expect(decodeLocalMessage(encodeLocalMessage(message))).toEqual(message);
    const edited: LocalMessage = { ...message, reactions: ['👀', '✅'], redacted: true, edited: true, text: 'x' };
    expect(decodeLocalMessage(encodeLocalMessage(edited))).toEqual(edited);
  });

  it('stores a login request in under 40 % of its JSON (the fixed wording is in the dictionary)', () => {
    const message = loginRequest();
    const json = JSON.stringify(message);
    const stored = encodeLocalMessage(message);
    expect(stored.length).toBeLessThan(json.length * 0.4);
    // Values the dictionary cannot know (the link's random part, the handoff id) are all kept.
    expect(decodeLocalMessage(stored).text).toContain('ar_8b0fdc72f1c14b40e1040d35');
  });

  it('stores the `z` form, id inside: a `y` entry (id in clear) made a bench thread cross a size class', () => {
    const message = loginRequest();
    const { reactions: _r, redacted: _d, ...rest } = message;
    const zForm = `z${deflateRawSync(JSON.stringify(rest), { dictionary: localMessageDictionary, level: 9 }).toString('base64')}`;
    expect(encodeLocalMessage(message)).toBe(zForm);
    expect(storedId(zForm)).toBeUndefined();
    expect(storedId('{"id":"t.1"}')).toBeUndefined();
  });

  it('still reads the `y` form (id in clear in front), written for a few hours on 2026-12-03', () => {
    const message = loginRequest();
    const { id, reactions: _r, redacted: _d, ...rest } = message;
    const body = deflateRawSync(JSON.stringify(rest), { dictionary: localMessageDictionary, level: 9 }).toString(
      'base64',
    );
    const yForm = `y${id}\t${body}`;
    expect(storedId(yForm)).toBe(id);
    expect(decodeLocalMessage(yForm)).toEqual(message);
    expect(storedId('yno-tab-here')).toBeUndefined();
  });

  it('refuses a corrupt entry of the `y` form', () => {
    expect(() => decodeLocalMessage('yt.1\t!!!not-deflate')).toThrow();
    expect(() => decodeLocalMessage('yt.1 no tab')).toThrow();
  });

  it('keeps a short message as plain JSON (compressing it would save nothing), a longer one compressed', () => {
    const reply: LocalMessage = {
      id: 'procs0s0-12.9f8e7d6c5b4a3921',
      author: 'ann',
      kind: 'human',
      at: 1_796_271_837_204,
      text: 'here: ABCD-EFGH-1234',
      reactions: ['✅'],
      redacted: false,
    };
    const stored = encodeLocalMessage(reply);
    expect(stored.startsWith('{')).toBe(true);
    expect(stored.length).toBeLessThanOrEqual(plainUpTo);
    expect(decodeLocalMessage(stored)).toEqual(reply);
    // Text that looks like a stored form is still inside the JSON, and a quote cannot end it.
    const lookalike: LocalMessage = { ...reply, text: 'zAAAA"}', author: 'y1\t' };
    expect(encodeLocalMessage(lookalike).startsWith('{')).toBe(true);
    expect(decodeLocalMessage(encodeLocalMessage(lookalike))).toEqual(lookalike);
    // One character past the limit, compressed.
    const json = (m: LocalMessage) => JSON.stringify({ ...m, reactions: ['✅'], redacted: undefined });
    const longer: LocalMessage = { ...reply, text: reply.text + 'x'.repeat(plainUpTo + 1 - json(reply).length) };
    expect(json(longer).length).toBe(plainUpTo + 1);
    expect(encodeLocalMessage(longer).startsWith('z')).toBe(true);
    expect(decodeLocalMessage(encodeLocalMessage(longer))).toEqual(longer);
  });

  it('keeps hostile text, any Unicode and long text intact', () => {
    const text = `<script>alert(1)</script> "}{\\u0000 ${'🔐'.repeat(50)} ${'x'.repeat(20_000)}`;
    const message: LocalMessage = { ...loginRequest(), kind: 'human', author: '"}],"kind":"bot', text };
    expect(decodeLocalMessage(encodeLocalMessage(message))).toEqual(message);
  });

  it('reads messages stored as plain JSON before compression', () => {
    const stored = '{"author":"alice","kind":"human","at":1,"text":"hi","id":"demo.0000000000000000"}';
    expect(decodeLocalMessage(stored)).toEqual({
      author: 'alice',
      kind: 'human',
      at: 1,
      text: 'hi',
      id: 'demo.0000000000000000',
      reactions: [],
      redacted: false,
    });
  });

  it('refuses a corrupt entry instead of inflating it without bound', () => {
    expect(() => decodeLocalMessage('z!!!not-deflate')).toThrow();
  });

  it('reads a message stored by the first version of the codec: the dictionary is frozen, not rendered at run time', () => {
    // Stored messages depend on the dictionary's exact bytes; a change must come with a new mark.
    expect(createHash('sha256').update(localMessageDictionary).digest('hex')).toBe(
      'edebdca62c6484dc4a6a43e51e6785f90cb32c0e79a7a8e0e7d839c6e6a5b560',
    );
    const stored =
      'zq4bIlugZgtIHLP0k5mQmpyJST0ZpbmIePP1YmhmZG1oYmxsZmMDTTwoonB41TAEHODikM4sV3Jx1DY2MTRQezWlV0lEqSk1MLsnMB7ktWqk4NTVPKbYWAA==';
    expect(decodeLocalMessage(stored)).toEqual({
      id: 't.1',
      author: 'alice',
      kind: 'human',
      at: 1_796_271_837_204,
      text: 'done — the code is FC-1234 ✅',
      reactions: ['seen'],
      redacted: false,
    });
  });
});
