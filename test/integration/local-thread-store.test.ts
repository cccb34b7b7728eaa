import { afterAll, describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { encodeLocalMessage, localMessageDictionary } from '../../adapters/local/local-message-codec.js';
import {
  createLocalThreadStore,
  localThreadLimit,
  type LocalMessage,
} from '../../adapters/local/local-thread-store.js';
import { parseLocalThread } from '../../adapters/local/local-thread.js';
import { redisKeyValue } from '../../src/app/redis-key-value.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';

/**
 * Edits of a local thread's messages on the bridge's Redis (adapters/local/local-thread-store.ts):
 * found newest first, every stored form found, nothing else touched, and two edits
 * of one message at once both kept.
 */
describe('local thread store: edits', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('local-store');
  const kv = redisKeyValue(redis, `${prefix}:local`);
  const store = createLocalThreadStore(kv);
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  let n = 0;
  const thread = () => `edits-${++n}`;
  const human = (text: string) => ({ author: 'alice', kind: 'human' as const, text, at: 1 });
  const message = (id: string, text: string): LocalMessage => ({ ...human(text), id, reactions: [], redacted: false });
  const react = (emoji: string) => (m: LocalMessage) => ({ ...m, reactions: [...m.reactions, emoji] });
  /** The raw entries of a thread, as Redis holds them. */
  const raw = (name: string) => kv.list(`thread:${name}`);

  it('finds its message among 1,000 and rewrites that entry alone', async () => {
    const name = thread();
    const sent: LocalMessage[] = [];
    for (let i = 0; i < 1_000; i++) sent.push(await store.append(name, human(`message ${i}`)));
    const before = await raw(name);
    for (const target of [sent[0]!, sent[500]!, sent[999]!]) {
      expect((await store.update(name, target.id, react('✅')))?.reactions).toEqual(['✅']);
    }
    const after = await raw(name);
    const changed = after.flatMap((r, i) => (r === before[i] ? [] : [i]));
    expect(changed).toEqual([0, 500, 999]);
    const listed = await store.list(name);
    expect(listed.map((m) => m.text)).toEqual(sent.map((m) => m.text));
    expect(listed.filter((m) => m.reactions.length > 0).map((m) => m.id)).toEqual([
      sent[0]!.id,
      sent[500]!.id,
      sent[999]!.id,
    ]);
  });

  it('append keeps the newest entries only, in order, also when many append at once', async () => {
    const key = `thread:${thread()}`;
    for (let i = 0; i < 5; i++) await kv.append(key, `entry ${i}`, 3);
    expect(await kv.list(key)).toEqual(['entry 2', 'entry 3', 'entry 4']);
    await Promise.all(Array.from({ length: 50 }, (_, i) => kv.append(key, `burst ${i}`, 10)));
    expect(await kv.list(key)).toEqual(Array.from({ length: 10 }, (_, i) => `burst ${40 + i}`));
  });

  it('does not take an id that is a prefix of another message’s, nor one that only contains it', async () => {
    const name = thread();
    await kv.append(`thread:${name}`, encodeLocalMessage(message(`${name}.ab`, 'short id')), localThreadLimit);
    await kv.append(`thread:${name}`, encodeLocalMessage(message(`${name}.abc`, 'longer id')), localThreadLimit);
    await kv.append(`thread:${name}`, encodeLocalMessage(message(`x${name}.ab`, 'id with a head')), localThreadLimit);
    await store.update(name, `${name}.ab`, react('👀'));
    expect((await store.list(name)).map((m) => [m.text, m.reactions])).toEqual([
      ['short id', ['👀']],
      ['longer id', []],
      ['id with a head', []],
    ]);
    expect(await store.update(name, `${name}.a`, react('❌'))).toBeUndefined();
  });

  it('finds nothing for an id with a tab or a newline (no thread name holds one), and changes nothing', async () => {
    for (const bad of ['a\tb', 'a\nb']) expect(() => parseLocalThread(`local:${bad}`)).toThrow();
    const name = thread();
    const m = await store.append(name, human('hello'));
    const before = await raw(name);
    for (const id of [`${m.id}\t`, `${m.id}\n`, `${m.id.slice(0, -1)}\t${m.id.slice(-1)}`]) {
      expect(await store.update(name, id, react('❌'))).toBeUndefined();
    }
    expect(await raw(name)).toEqual(before);
  });

  it('finds and edits messages stored in every form (`y…` id in clear, `z…` and plain JSON)', async () => {
    const name = thread();
    const plain = JSON.stringify({ ...human('plain'), id: `${name}.0000000000000001` });
    // The `z` form is the compressed JSON with the id inside (the current form).
    const zForm =
      'zq4bIlugZgtIHLP0k5mQmpyJST0ZpbmIePP1YmhmZG1oYmxsZmMDTTwoonB41TAEHODikM4sV3Jx1DY2MTRQezWlV0lEqSk1MLsnMB7ktWqk4NTVPKbYWAA==';
    await kv.append(`thread:${name}`, plain, localThreadLimit);
    await kv.append(`thread:${name}`, zForm, localThreadLimit);
    // The `y` form: the id in clear in front of the compressed rest.
    const {
      id: _id,
      reactions: _r,
      redacted: _d,
      ...rest
    } = { ...human('new form'), id: `${name}.00000000000000ff`, reactions: [], redacted: false };
    const yBody = deflateRawSync(JSON.stringify(rest), { dictionary: localMessageDictionary, level: 9 }).toString(
      'base64',
    );
    await kv.append(`thread:${name}`, `y${name}.00000000000000ff\t${yBody}`, localThreadLimit);
    const fresh = { id: `${name}.00000000000000ff` };
    expect((await store.update(name, fresh.id, react('👀')))?.text).toBe('new form');
    expect((await store.update(name, `${name}.0000000000000001`, react('✅')))?.text).toBe('plain');
    expect((await store.update(name, 't.1', react('✅')))?.reactions).toEqual(['seen', '✅']);
    const listed = await store.list(name);
    expect(listed.map((m) => [m.id, m.reactions])).toEqual([
      [`${name}.0000000000000001`, ['✅']],
      ['t.1', ['seen', '✅']],
      [fresh.id, ['👀']],
    ]);
    // An edited entry is written back in the current form: these are short, so plain JSON.
    expect((await raw(name)).map((r) => r[0])).toEqual(['{', '{', '{']);
  });

  it('edits the message next to a corrupt entry, and leaves the corrupt one as it was', async () => {
    const name = thread();
    const a = await store.append(name, human('before'));
    await kv.append(`thread:${name}`, 'z!!!not-deflate', localThreadLimit);
    const target = await store.append(name, human('target'));
    await kv.append(`thread:${name}`, 'y\t', localThreadLimit);
    await kv.append(`thread:${name}`, `y${target.id}x\t!!!`, localThreadLimit);
    expect((await store.update(name, target.id, react('✅')))?.reactions).toEqual(['✅']);
    expect((await store.update(name, a.id, react('👀')))?.reactions).toEqual(['👀']);
    const entries = await raw(name);
    expect([entries[1], entries[3], entries[4]]).toEqual(['z!!!not-deflate', 'y\t', `y${target.id}x\t!!!`]);
    expect(await store.update(name, `${name}.missing`, react('❌'))).toBeUndefined();
  });

  it('keeps every one of many edits of one message made at once (a reaction and a redaction race)', async () => {
    const name = thread();
    for (let i = 0; i < 20; i++) await store.append(name, human(`chatter ${i}`));
    const target = await store.append(name, human('FC-1234'));
    const emojis = ['👀', '✅', '❌', '🎉', '🔐', '🙂'];
    await Promise.all([
      ...emojis.map((e) => store.update(name, target.id, react(e))),
      store.update(name, target.id, (m) => ({ ...m, text: '[removed]', redacted: true })),
    ]);
    const edited = (await store.list(name)).find((m) => m.id === target.id)!;
    expect([...edited.reactions].sort()).toEqual([...emojis].sort());
    expect(edited).toMatchObject({ text: '[removed]', redacted: true });
  });

  it('edits the right message while new ones push the oldest out of a full thread', async () => {
    const name = thread();
    const sent: LocalMessage[] = [];
    for (let i = 0; i < localThreadLimit; i++) sent.push(await store.append(name, human(`m${i}`)));
    const targets = sent.slice(600, 620);
    await Promise.all([
      ...targets.map((t) => store.update(name, t.id, react('✅'))),
      ...Array.from({ length: 50 }, (_, i) => store.append(name, human(`late ${i}`))),
    ]);
    const listed = await store.list(name);
    // The 50 oldest fell out; no message was written over another (an edit at a stale index).
    expect(listed.map((m) => m.text)).toEqual([
      ...sent.slice(50).map((m) => m.text),
      ...Array.from({ length: 50 }, (_, i) => `late ${i}`),
    ]);
    expect(listed.filter((m) => m.reactions.length > 0).map((m) => m.text)).toEqual(targets.map((t) => t.text));
  });

  it('lists what follows a message, or everything when that message is unknown', async () => {
    const name = thread();
    const [a, b, c] = [
      await store.append(name, human('a')),
      await store.append(name, human('b')),
      await store.append(name, human('c')),
    ];
    expect((await store.list(name, a.id)).map((m) => m.id)).toEqual([b.id, c.id]);
    expect(await store.list(name, c.id)).toEqual([]);
    expect((await store.list(name, `${name}.unknown`)).map((m) => m.id)).toEqual([a.id, b.id, c.id]);
    expect((await store.list(name)).map((m) => m.id)).toEqual([a.id, b.id, c.id]);
  });
});
