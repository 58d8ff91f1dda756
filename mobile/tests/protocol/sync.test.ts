/**
 * ArTP/1.1 pieces of the library that need no node: the message-1 payload, HELLO's features,
 * the new requests and replies, the mention rule, and the device key kept as a non-extractable
 * WebCrypto X25519 key (Node's WebCrypto has X25519, as Chromium's does).
 */
import { webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { x25519 } from '@noble/curves/ed25519.js';

import { fromUtf8, utf8 } from '../../src/protocol/bytes';
import { decodeServerMessage, encodeRequest, isRejection } from '../../src/protocol/codec';
import { CLIENT_FEATURES, enabledFeatures, greetingPayload } from '../../src/protocol/features';
import { mentions } from '../../src/protocol/mentions';
import type { ServerMessage } from '../../src/protocol/messages';
import { generateKeyPair, HandshakeState, keyPairFromPrivate, XX } from '../../src/protocol/noise';
import { pkcs8FromRawX25519, type StaticKey, webCryptoStaticKey } from '../../src/protocol/staticKey';
import { newCid } from '../../src/state/outbox';
import { PROJECT_ROOT } from '../support/paths';
import { nodeAead, randomBytes } from '../support/webcrypto';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
const decode = (json: unknown) => decodeServerMessage(utf8(JSON.stringify(json))) as ServerMessage;
const encoded = (request: Parameters<typeof encodeRequest>[0]) => JSON.parse(fromUtf8(encodeRequest(request))) as unknown;

describe('feature negotiation (§14.1)', () => {
  it('asks for batch, sync, lifecycle and moderation in handshake message 1, from one list', () => {
    expect(CLIENT_FEATURES).toContain('sync');
    expect(JSON.parse(fromUtf8(greetingPayload('aronanet-mobile/0.2', CLIENT_FEATURES)))).toEqual({
      client: 'aronanet-mobile/0.2',
      features: ['batch', 'sync', 'lifecycle', 'moderation'],
    });
  });

  it('sends an empty payload when it has nothing to say', () => {
    expect(greetingPayload(undefined, [])).toHaveLength(0);
  });

  it('reads the enabled features from HELLO, and none from an ArTP/1.0 node', () => {
    const hello = decode({ version: '1.0', type: 'HELLO', node: 'kivotos', features: ['batch', 'sync'] });
    expect(enabledFeatures(hello as { features?: string[] }).has('sync')).toBe(true);
    expect(enabledFeatures(decode({ version: '1.0', type: 'HELLO', node: 'old' }) as { features?: string[] }).size).toBe(0);
  });
});

describe('the ArTP/1.1 requests', () => {
  it('signs in with the device key alone: AUTH without a password', () => {
    expect(encoded({ type: 'AUTH', user: 'sensei' })).toEqual({ version: '1.0', type: 'AUTH', user: 'sensei' });
  });

  it('names the device on a password login, and refuses a control character in the name', () => {
    const auth = { type: 'AUTH' as const, user: 'sensei', password: 'correct horse', device_name: 'Chrome on Linux' };
    expect(encoded(auth)).toMatchObject({ device_name: 'Chrome on Linux' });
    expect(() => encodeRequest({ ...auth, device_name: 'bad\u0007name' })).toThrow(/device_name/);
    expect(() => encodeRequest({ ...auth, device_name: 'x'.repeat(65) })).toThrow(/at most 64/);
  });

  it('carries a client id on MSG: 1-64 characters of [A-Za-z0-9_-]', () => {
    const msg = { type: 'MSG' as const, dest_type: 'user' as const, dest: 'arona', content: 'ok' };
    expect(encoded({ ...msg, cid: 'Ab_-09' })).toMatchObject({ cid: 'Ab_-09' });
    expect(() => encodeRequest({ ...msg, cid: 'no spaces' })).toThrow(/cid/);
    expect(() => encodeRequest({ ...msg, cid: 'x'.repeat(65) })).toThrow(/at most 64/);
    expect(() => encodeRequest({ ...msg, cid: 'x'.repeat(64) })).not.toThrow();
  });

  it('makes 128-bit client ids of 22 base64url characters, different each time', () => {
    const cids = new Set(Array.from({ length: 100 }, () => newCid(randomBytes)));
    expect(cids.size).toBe(100);
    for (const cid of cids) expect(cid).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('encodes the device, conversation and read requests', () => {
    expect(encoded({ type: 'DEVICES' })).toEqual({ version: '1.0', type: 'DEVICES' });
    expect(encoded({ type: 'DEVICE_RENAME', device: 'SHA256:abc', name: 'laptop' })).toMatchObject({ name: 'laptop' });
    expect(encoded({ type: 'DEVICE_REVOKE', device: 'SHA256:abc' })).toMatchObject({ device: 'SHA256:abc' });
    expect(encoded({ type: 'PASSWORD', old: 'correct horse', new: 'battery staple' })).toMatchObject({ new: 'battery staple' });
    expect(() => encodeRequest({ type: 'PASSWORD', old: 'correct horse', new: 'short' })).toThrow(/at least 8/);
    expect(encoded({ type: 'CONVERSATIONS', cursor: 'c1' })).toMatchObject({ cursor: 'c1' });
    expect(encoded({ type: 'READ', dest_type: 'channel', dest: '#general', up_to: '42' })).toMatchObject({ up_to: '42' });
  });
});

describe('the ArTP/1.1 replies and events', () => {
  it('reads a CONVERSATIONS page with its cursor', () => {
    const ok = decode({
      version: '1.0', type: 'OK', re: 'r1', next: 'user:kei',
      conversations: [
        { dest_type: 'channel', dest: '#general', last_id: '9', last_timestamp: 5, unread: 2, mentions: 1, read: '7' },
        { dest_type: 'user', dest: 'kei', unread: 0, mentions: 0 },
      ],
    });
    expect(ok).toMatchObject({ next: 'user:kei', conversations: [{ unread: 2, mentions: 1, read: '7' }, { dest: 'kei' }] });
  });

  it('reads a duplicate OK, the cid of a MSG event, a READ event and the devices list', () => {
    expect(decode({ version: '1.0', type: 'OK', re: 'r2', msg_id: '5', timestamp: 1, duplicate: true })).toMatchObject({ duplicate: true });
    const msg = { version: '1.0', type: 'MSG', id: '5', from: 'sensei', dest_type: 'user', dest: 'kei', content: 'ok', timestamp: 1 };
    expect(decode({ ...msg, cid: 'abc' })).toMatchObject({ cid: 'abc' });
    expect(decode({ version: '1.0', type: 'READ', dest_type: 'user', dest: 'kei', read: '5', id: 'e1', timestamp: 2 })).toMatchObject({
      type: 'READ',
      read: '5',
    });
    const device = { id: 'SHA256:abc', name: 'laptop', first_seen: 1, last_seen: 2, address: '127.0.0.1', current: true };
    expect(decode({ version: '1.0', type: 'OK', re: 'r3', devices: [device] })).toMatchObject({ devices: [device] });
  });

  it('rejects a READ event without its marker', () => {
    expect(isRejection(decodeServerMessage(utf8(JSON.stringify({ version: '1.0', type: 'READ', dest_type: 'user', dest: 'kei' }))))).toBe(true);
  });
});

describe('the mention rule (§14.5): the cases aronanet.proto.mentions is tested on', () => {
  const { cases } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'tests', 'vectors', 'mentions.json'), 'utf8')) as {
    cases: { content: string; name: string; mentions: boolean }[];
  };

  it.each(cases)('$content mentions $name: $mentions', ({ content, name, mentions: expected }) => {
    expect(mentions(content, name)).toBe(expected);
  });
});

describe('the device key as a non-extractable WebCrypto X25519 key', () => {
  async function webCryptoKey(): Promise<{ key: StaticKey; privateKey: CryptoKey }> {
    const pair = (await subtle.generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair;
    const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
    return { key: webCryptoStaticKey(subtle, pair.privateKey, publicKey), privateKey: pair.privateKey };
  }

  it('cannot be exported, yet agrees with noble on every Diffie-Hellman', async () => {
    const { key, privateKey } = await webCryptoKey();
    await expect(subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();
    const peer = generateKeyPair(randomBytes);
    expect(await key.dh(peer.publicKey)).toEqual(x25519.getSharedSecret(peer.privateKey, key.publicKey));
  });

  it('completes a Noise XX handshake as the initiator', async () => {
    const { key } = await webCryptoKey();
    const common = { pattern: XX, prologue: utf8('ArTP/1.0'), aead: nodeAead, random: randomBytes };
    const initiator = HandshakeState.initialize({ ...common, initiator: true, staticKey: key });
    const responder = HandshakeState.initialize({ ...common, initiator: false, staticKey: generateKeyPair(randomBytes) });
    await responder.readMessage(await initiator.writeMessage(new Uint8Array(0)));
    await initiator.readMessage(await responder.writeMessage(new Uint8Array(0)));
    await responder.readMessage(await initiator.writeMessage(new Uint8Array(0)));
    expect(responder.remoteStaticKey()).toEqual(key.publicKey);
    expect(initiator.handshakeHash()).toEqual(responder.handshakeHash());
  });

  it('moves a key kept as raw bytes into WebCrypto with the same public key (migration)', async () => {
    const legacy = generateKeyPair(randomBytes);
    const privateKey = await subtle.importKey('pkcs8', pkcs8FromRawX25519(legacy.privateKey) as BufferSource, { name: 'X25519' }, false, ['deriveBits']);
    const moved = webCryptoStaticKey(subtle, privateKey, keyPairFromPrivate(legacy.privateKey).publicKey);
    const peer = generateKeyPair(randomBytes);
    expect(await moved.dh(peer.publicKey)).toEqual(x25519.getSharedSecret(legacy.privateKey, peer.publicKey));
  });

  it('refuses a low-order peer key as a handshake failure', async () => {
    const { key } = await webCryptoKey();
    await expect(key.dh(new Uint8Array(32))).rejects.toThrow(/low-order/);
  });
});
