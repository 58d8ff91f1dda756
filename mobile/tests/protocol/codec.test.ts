import { fromBase64, toBase64, utf8 } from '../../src/protocol/bytes';
import { decodeServerMessage, decodeServerMessages, encodeRequest, isRejection } from '../../src/protocol/codec';
import { fingerprint } from '../../src/protocol/fingerprint';
import type { ServerMessage } from '../../src/protocol/messages';

const decode = (json: unknown) => decodeServerMessage(utf8(JSON.stringify(json)));

describe('encodeRequest', () => {
  it('adds version 1.0 and leaves unset fields out', () => {
    const json = JSON.parse(new TextDecoder().decode(encodeRequest({ type: 'JOIN', channel: '#general' })));
    expect(json).toEqual({ version: '1.0', type: 'JOIN', channel: '#general' });
  });

  it('rejects a channel dest that is not a channel name', () => {
    expect(() => encodeRequest({ type: 'MSG', dest_type: 'channel', dest: 'general', content: 'hi' })).toThrow(
      /not a valid channel name/,
    );
  });

  it('counts content in code points, so 4000 emoji are allowed and 4001 are not', () => {
    const emoji = '🌸';
    const ok = { type: 'MSG' as const, dest_type: 'user' as const, dest: 'arona', content: emoji.repeat(4000) };
    expect(() => encodeRequest(ok)).not.toThrow();
    expect(() => encodeRequest({ ...ok, content: emoji.repeat(4001) })).toThrow(/at most 4000/);
  });

  it('rejects a password shorter than 8 characters', () => {
    expect(() => encodeRequest({ type: 'AUTH', user: 'sensei', password: 'short' })).toThrow(/at least 8/);
  });
});

describe('decodeServerMessage', () => {
  it('decodes the seed example MSG and keeps `from`', () => {
    const message = decode({
      version: '1.0', type: 'MSG', id: 'm1', from: 'sensei', dest_type: 'channel',
      dest: '#general', content: 'Hello Arona!', timestamp: 1234567890,
    }) as ServerMessage;
    expect(message).toMatchObject({ type: 'MSG', from: 'sensei', content: 'Hello Arona!' });
  });

  it('ignores unknown fields', () => {
    const message = decode({ version: '1.0', type: 'PING', id: 'p1', shiny: true });
    expect(message).toEqual({ version: '1.0', type: 'PING', id: 'p1' });
  });

  it('turns a wrong field type into a rejection that keeps the re', () => {
    const rejected = decode({ version: '1.0', type: 'OK', re: 'r7', timestamp: 'soon' });
    expect(isRejection(rejected) && rejected.re).toBe('r7');
  });

  it('rejects another protocol version', () => {
    expect(isRejection(decode({ version: '2.0', type: 'PING', id: 'p' }))).toBe(true);
  });

  it('rejects an unknown type, a non-object and bad UTF-8', () => {
    expect(isRejection(decode({ version: '1.0', type: 'WAT' }))).toBe(true);
    expect(isRejection(decode([1, 2]))).toBe(true);
    expect(isRejection(decodeServerMessage(new Uint8Array([0xff, 0xfe])))).toBe(true);
  });
});

describe('decodeServerMessages (ArTP/1.1 batch, §14.2)', () => {
  const many = (json: unknown) => decodeServerMessages(utf8(JSON.stringify(json)));
  const msg = (id: string) => ({
    version: '1.0', type: 'MSG', id, from: 'kei', dest_type: 'channel', dest: '#general',
    content: `text ${id}`, timestamp: 1234567900,
  });

  it('returns the elements of an array in order, replies and events alike', () => {
    const decoded = many([msg('41'), msg('42'), { version: '1.0', type: 'OK', re: 'm7', msg_id: '43', timestamp: 1 }]);
    expect(decoded.map((m) => (isRejection(m) ? 'rejected' : m.type))).toEqual(['MSG', 'MSG', 'OK']);
    expect(decoded[1]).toMatchObject({ id: '42', content: 'text 42' });
  });

  it('treats a single object as a list of one', () => {
    expect(many(msg('1'))).toEqual([decode(msg('1'))]);
  });

  it('rejects one bad element and keeps the others', () => {
    const decoded = many([{ version: '1.0', type: 'DANCE' }, msg('2')]);
    expect(decoded[0] !== undefined && isRejection(decoded[0])).toBe(true);
    expect(decoded[1]).toMatchObject({ type: 'MSG', id: '2' });
  });

  it('rejects an empty array and bad JSON as one rejection', () => {
    expect(many([]).every(isRejection)).toBe(true);
    expect(decodeServerMessages(utf8('[{"type":')).every(isRejection)).toBe(true);
  });
});

describe('bytes and fingerprints', () => {
  it('round-trips base64 of every length modulo 3', () => {
    for (const length of [0, 1, 2, 3, 4, 5, 100]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37) & 0xff);
      expect(fromBase64(toBase64(bytes))).toEqual(bytes);
      expect(Buffer.from(toBase64(bytes), 'base64')).toEqual(Buffer.from(bytes));
    }
  });

  it('formats a fingerprint as SHA256: and unpadded base64 of 43 characters', () => {
    const print = fingerprint(new Uint8Array(32));
    expect(print).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
