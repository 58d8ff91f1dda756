/**
 * ArTP/1.1 `lifecycle` in the protocol library (PROTOCOL.md §14.9-14.15): the new requests are
 * checked before they leave, the new events and fields decode, search marks in code points land
 * on the right UTF-16 characters, and the reaction rule agrees with the node's on the shared
 * cases (tests/vectors/emoji.json, read by tests/unit/proto/test_emoji.py too).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { utf8 } from '../../src/protocol/bytes';
import { decodeServerMessage, encodeRequest, isRejection } from '../../src/protocol/codec';
import { isReactionEmoji, MAX_EMOJI_CODE_POINTS } from '../../src/protocol/emoji';
import { ErrorCode } from '../../src/protocol/errors';
import { CLIENT_FEATURES } from '../../src/protocol/features';
import { markedSegments, marksToUtf16 } from '../../src/protocol/marks';
import type { ServerMessage } from '../../src/protocol/messages';
import { PROJECT_ROOT } from '../support/paths';

const decode = (json: unknown) => decodeServerMessage(utf8(JSON.stringify(json)));
const encoded = (request: Parameters<typeof encodeRequest>[0]) => JSON.parse(new TextDecoder().decode(encodeRequest(request)));

describe('the lifecycle feature', () => {
  it('is asked for, and NOT_AUTHOR is a known code', () => {
    expect(CLIENT_FEATURES).toContain('lifecycle');
    expect(ErrorCode.NOT_AUTHOR).toBe('NOT_AUTHOR');
  });
});

describe('lifecycle requests', () => {
  it('encodes a reply, an edit, a delete, reactions, typing, CHANGES, HISTORY around and SEARCH', () => {
    expect(encoded({ type: 'MSG', dest_type: 'channel', dest: '#general', content: 'yes', reply_to: '17' })).toMatchObject({ reply_to: '17' });
    expect(encoded({ type: 'EDIT', msg_id: '17', content: 'new text' })).toEqual({ version: '1.0', type: 'EDIT', msg_id: '17', content: 'new text' });
    expect(encoded({ type: 'DELETE', msg_id: '17' })).toEqual({ version: '1.0', type: 'DELETE', msg_id: '17' });
    expect(encoded({ type: 'REACT', msg_id: '17', emoji: '👍' })).toMatchObject({ emoji: '👍' });
    expect(encoded({ type: 'UNREACT', msg_id: '17', emoji: '🇯🇵' })).toMatchObject({ type: 'UNREACT' });
    expect(encoded({ type: 'TYPING', dest_type: 'user', dest: 'kei', typing: true })).toMatchObject({ typing: true });
    expect(encoded({ type: 'CHANGES', dest_type: 'channel', dest: '#general', since: '42' })).toMatchObject({ since: '42' });
    expect(encoded({ type: 'HISTORY', dest_type: 'channel', dest: '#general', around: '17', limit: 50 })).toMatchObject({ around: '17' });
    expect(encoded({ type: 'SEARCH', query: 'arona', dest_type: 'channel', dest: '#general', before: '9', limit: 20 })).toMatchObject({ query: 'arona' });
  });

  it('refuses locally what the node would refuse: an empty edit, text as a reaction, a query over 256', () => {
    expect(() => encodeRequest({ type: 'EDIT', msg_id: '17', content: '' })).toThrow(/at least 1/);
    expect(() => encodeRequest({ type: 'REACT', msg_id: '17', emoji: ':smile:' })).toThrow(/invalid emoji: a reaction is one emoji/);
    expect(() => encodeRequest({ type: 'REACT', msg_id: '17', emoji: '👍👍' })).toThrow(/one emoji/);
    expect(() => encodeRequest({ type: 'SEARCH', query: 'x'.repeat(257) })).toThrow(/at most 256/);
    expect(() => encodeRequest({ type: 'SEARCH', query: 'x'.repeat(256) })).not.toThrow();
    expect(() => encodeRequest({ type: 'CHANGES', dest_type: 'channel', dest: '#general', since: 'abc' })).toThrow(/matching/);
    expect(() => encodeRequest({ type: 'TYPING', dest_type: 'channel', dest: 'general', typing: true })).toThrow(/not a valid channel/);
  });
});

describe('lifecycle events and fields', () => {
  const base = { version: '1.0', dest_type: 'channel', dest: '#general' };

  it('decodes EDIT, DELETE, REACTION and TYPING', () => {
    expect(decode({ ...base, type: 'EDIT', id: 'e1', msg_id: '17', from: 'kei', content: 'new', edited: 5, timestamp: 5 })).toMatchObject({
      type: 'EDIT', msg_id: '17', content: 'new', edited: 5,
    });
    expect(decode({ ...base, type: 'DELETE', id: 'e2', msg_id: '17', from: 'kei', timestamp: 6 })).toMatchObject({ type: 'DELETE', msg_id: '17' });
    expect(decode({ ...base, type: 'REACTION', id: 'e3', msg_id: '17', from: 'yuuka', emoji: '👍', added: true, count: 2, timestamp: 7 })).toMatchObject({
      type: 'REACTION', added: true, count: 2,
    });
    expect(decode({ ...base, type: 'TYPING', id: 'e4', from: 'kei', typing: true, expires_ms: 6000, timestamp: 8 })).toMatchObject({
      type: 'TYPING', typing: true, expires_ms: 6000,
    });
  });

  it('rejects a REACTION without its count, keeping the session', () => {
    expect(isRejection(decode({ ...base, type: 'REACTION', msg_id: '17', from: 'y', emoji: '👍', added: true }))).toBe(true);
  });

  it('reads a reply, an edit time, a tombstone, reactions and rev on a message', () => {
    const message = decode({
      ...base, type: 'MSG', id: '18', from: 'sensei', content: '', timestamp: 1, reply_to: '17',
      reply: { id: '17', from: 'kei', content: '', deleted: true }, edited: 3, deleted: 4, rev: '99',
      reactions: [{ emoji: '👍', count: 2, users: ['kei', 'yuuka'] }],
    }) as ServerMessage;
    expect(message).toMatchObject({ reply_to: '17', reply: { deleted: true }, edited: 3, deleted: 4, rev: '99', reactions: [{ count: 2 }] });
  });

  it('reads OK fields: edited, count, CHANGES rev with next true, SEARCH results with marks', () => {
    expect(decode({ version: '1.0', type: 'OK', re: 'r1', msg_id: '17', edited: 9 })).toMatchObject({ edited: 9 });
    expect(decode({ version: '1.0', type: 'OK', re: 'r2', msg_id: '17', emoji: '👍', count: 0 })).toMatchObject({ count: 0 });
    expect(decode({ version: '1.0', type: 'OK', re: 'r3', messages: [], rev: '12', next: true })).toMatchObject({ rev: '12', next: true });
    const result = { ...base, type: 'MSG', id: '5', from: 'kei', content: 'hello arona', timestamp: 1, marks: [[6, 5]] };
    expect(decode({ version: '1.0', type: 'OK', re: 'r4', results: [result], next: '5' })).toMatchObject({ results: [{ marks: [[6, 5]] }], next: '5' });
    expect(isRejection(decode({ version: '1.0', type: 'OK', re: 'r5', results: [{ ...result, marks: [[6]] }] }))).toBe(true);
  });
});

describe('search marks: code points to UTF-16', () => {
  it('marks the right words after emoji and other characters beyond U+FFFF', () => {
    const content = '🌸🌸 hello 𝒜rona world';
    // code points: 🌸=0 🌸=1 ' '=2 hello=3..7 ' '=8 𝒜rona=9..13 ' '=14 world=15..19
    const segments = markedSegments(content, [[3, 5], [9, 5], [15, 5]]);
    expect(segments.filter((s) => s.marked).map((s) => s.text)).toEqual(['hello', '𝒜rona', 'world']);
    expect(segments.map((s) => s.text).join('')).toBe(content);
  });

  it('merges overlapping marks, sorts them, drops those past the end and clamps a long one', () => {
    expect(marksToUtf16('abcdef', [[3, 2], [0, 2], [1, 2], [9, 1], [4, 99]])).toEqual([[0, 6]]);
    expect(marksToUtf16('ab cd', [[3, 2], [0, 2]])).toEqual([[0, 2], [3, 5]]);
    expect(markedSegments('plain', [])).toEqual([{ text: 'plain', marked: false }]);
    expect(markedSegments('', [[0, 1]])).toEqual([{ text: '', marked: false }]);
  });
});

describe('the reaction rule (§14.12): the cases aronanet.proto.emoji is tested on', () => {
  const vectors = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'tests', 'vectors', 'emoji.json'), 'utf8')) as {
    max_code_points: number;
    cases: { text: string; codepoints: string[]; valid: boolean; why: string }[];
  };

  it('agrees on the longest reaction', () => {
    expect(vectors.max_code_points).toBe(MAX_EMOJI_CODE_POINTS);
  });

  it.each(vectors.cases)('$why: $valid', ({ text, codepoints, valid }) => {
    const fromCodePoints = String.fromCodePoint(...codepoints.map((hex) => parseInt(hex, 16)));
    expect(fromCodePoints).toBe(text);
    expect(isReactionEmoji(fromCodePoints)).toBe(valid);
  });
});
