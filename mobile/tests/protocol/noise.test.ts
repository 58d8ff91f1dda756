import { fromHex, toHex } from '../../src/protocol/bytes';
import { DecryptError, HandshakeError } from '../../src/protocol/errors';
import {
  type CipherState,
  HandshakeState,
  keyPairFromPrivate,
  NK,
  type Pattern,
  XX,
} from '../../src/protocol/noise';
import { loadNoiseVectors, type NoiseVector } from '../support/vectors';
import { nodeAead, randomBytes } from '../support/webcrypto';

const PROLOGUE = new TextEncoder().encode('ArTP/1.0');

function sides(vector: NoiseVector, pattern: Pattern): [HandshakeState, HandshakeState] {
  const respStatic = keyPairFromPrivate(fromHex(vector.respStatic ?? ''));
  const common = { pattern, prologue: fromHex(vector.prologue), aead: nodeAead };
  const initiator = HandshakeState.initialize({
    ...common,
    initiator: true,
    staticKey: keyPairFromPrivate(fromHex(vector.initStatic ?? vector.initEphemeral)),
    ephemeralKey: keyPairFromPrivate(fromHex(vector.initEphemeral)),
    remoteStatic: pattern === NK ? respStatic.publicKey : undefined,
  });
  const responder = HandshakeState.initialize({
    ...common,
    initiator: false,
    staticKey: respStatic,
    ephemeralKey: keyPairFromPrivate(fromHex(vector.respEphemeral)),
  });
  return [initiator, responder];
}

async function replay(vector: NoiseVector, pattern: Pattern): Promise<void> {
  const [initiator, responder] = sides(vector, pattern);
  const handshakeLength = pattern.messages.length;
  let transport: { i: [CipherState, CipherState]; r: [CipherState, CipherState] } | null = null;
  for (const [index, message] of vector.messages.entries()) {
    const payload = fromHex(message.payload);
    if (index < handshakeLength) {
      const [writer, reader] = index % 2 === 0 ? [initiator, responder] : [responder, initiator];
      expect(toHex(await writer.writeMessage(payload))).toBe(message.ciphertext);
      expect(toHex(await reader.readMessage(fromHex(message.ciphertext)))).toBe(message.payload);
      continue;
    }
    if (!transport) {
      const i = await initiator.split();
      const r = await responder.split();
      expect(toHex(i.handshakeHash)).toBe(toHex(r.handshakeHash));
      if (vector.handshakeHash) expect(toHex(i.handshakeHash)).toBe(vector.handshakeHash);
      transport = { i: [i.send, i.receive], r: [r.send, r.receive] };
    }
    const position = index - handshakeLength;
    const initiatorSends = vector.transportStartsWithInitiator
      ? position % 2 === 0
      : index % 2 === 0;
    const [send, receive] = initiatorSends
      ? [transport.i[0], transport.r[1]]
      : [transport.r[0], transport.i[1]];
    const empty = new Uint8Array(0);
    expect(toHex(await send.encryptWithAd(empty, payload))).toBe(message.ciphertext);
    expect(toHex(await receive.decryptWithAd(empty, fromHex(message.ciphertext)))).toBe(message.payload);
  }
}

describe('Noise vectors shared with the Python core', () => {
  const xx = loadNoiseVectors('Noise_XX_25519_AESGCM_SHA256');
  const nk = loadNoiseVectors('Noise_NK_25519_AESGCM_SHA256');

  it('finds the XX and NK AESGCM vectors of every source', () => {
    expect(xx.length).toBe(2 + 1 + 4);
    expect(nk.length).toBe(2 + 1 + 4);
  });

  it.each(xx.map((vector) => [vector.source, vector] as const))(
    'XX vector %s replays byte for byte in both directions',
    async (_source, vector) => {
      await replay(vector, XX);
    },
  );

  it.each(nk.map((vector) => [vector.source, vector] as const))(
    'NK vector %s replays byte for byte in both directions',
    async (_source, vector) => {
      await replay(vector, NK);
    },
  );

  it('fails the replay when one ciphertext byte is corrupted', async () => {
    const vector = xx[0] as NoiseVector;
    const corrupted = vector.messages.map((message, index) =>
      index === 1
        ? { ...message, ciphertext: message.ciphertext.slice(0, -2) + (message.ciphertext.endsWith('00') ? '01' : '00') }
        : message,
    );
    await expect(replay({ ...vector, messages: corrupted }, XX)).rejects.toThrow();
  });
});

describe('HandshakeState', () => {
  function pair(): [HandshakeState, HandshakeState] {
    const make = (initiator: boolean) =>
      HandshakeState.initialize({
        pattern: XX,
        initiator,
        prologue: PROLOGUE,
        aead: nodeAead,
        staticKey: keyPairFromPrivate(randomBytes(32)),
        random: randomBytes,
      });
    return [make(true), make(false)];
  }

  it('completes XX with random keys and agrees on transport keys', async () => {
    const [client, server] = pair();
    await server.readMessage(await client.writeMessage(new Uint8Array(0)));
    const hello = new TextEncoder().encode('{"type":"HELLO"}');
    expect(await client.readMessage(await server.writeMessage(hello))).toEqual(hello);
    await server.readMessage(await client.writeMessage(new Uint8Array(0)));
    const c = await client.split();
    const s = await server.split();
    const sealed = await c.send.encryptWithAd(new Uint8Array(0), hello);
    expect(await s.receive.decryptWithAd(new Uint8Array(0), sealed)).toEqual(hello);
  });

  it('rejects a truncated second message as a handshake error', async () => {
    const [client, server] = pair();
    await server.readMessage(await client.writeMessage(new Uint8Array(0)));
    const message2 = await server.writeMessage(new Uint8Array(0));
    await expect(client.readMessage(message2.subarray(0, 40))).rejects.toBeInstanceOf(HandshakeError);
  });

  it('rejects a replayed transport message because the nonce moved on', async () => {
    const [client, server] = pair();
    await server.readMessage(await client.writeMessage(new Uint8Array(0)));
    await client.readMessage(await server.writeMessage(new Uint8Array(0)));
    await server.readMessage(await client.writeMessage(new Uint8Array(0)));
    const c = await client.split();
    const s = await server.split();
    const sealed = await c.send.encryptWithAd(new Uint8Array(0), new Uint8Array([1, 2, 3]));
    await s.receive.decryptWithAd(new Uint8Array(0), sealed);
    await expect(s.receive.decryptWithAd(new Uint8Array(0), sealed)).rejects.toBeInstanceOf(DecryptError);
  });

  it('refuses to write when it is the peer turn', async () => {
    const [, server] = pair();
    await expect(server.writeMessage(new Uint8Array(0))).rejects.toBeInstanceOf(HandshakeError);
  });
});
