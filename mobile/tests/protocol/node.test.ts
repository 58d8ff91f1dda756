/**
 * The protocol library against a real Python node: the same handshake, messages and image
 * transfers a phone uses, over real sockets on 127.0.0.1.
 */
import { ArtpClient } from '../../src/protocol/client';
import { ArtpError, KeyChangedError } from '../../src/protocol/errors';
import type { MsgEvent } from '../../src/protocol/messages';
import { generateKeyPair } from '../../src/protocol/noise';
import type { ServerEvent } from '../../src/protocol/client';
import { connectClient, registeredClient, uniqueUser } from '../support/client';
import { startNode, type RunningNode } from '../support/node';
import { uploadChunks } from '../../src/protocol/transfers';
import { noisePng, solidPng } from '../support/png';
import { openTcp } from '../support/tcp';
import { nodeAead, randomBytes } from '../support/webcrypto';

let node: RunningNode;
const clients: ArtpClient[] = [];

beforeAll(async () => {
  node = await startNode();
}, 60_000);

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await node?.stop();
});

async function user(prefix?: string): Promise<[ArtpClient, string]> {
  const [client, name] = await registeredClient(node, prefix);
  clients.push(client);
  return [client, name];
}

function nextEvent<T extends ServerEvent>(client: ArtpClient, match: (event: ServerEvent) => event is T): Promise<T> {
  return new Promise((resolve) => {
    const stop = client.onEvent((event) => {
      if (match(event)) {
        stop();
        resolve(event);
      }
    });
  });
}

const isMsg = (event: ServerEvent): event is MsgEvent => event.type === 'MSG';

describe('the protocol library against a real node', () => {
  it('completes the handshake over WebSocket and shows the node fingerprint', async () => {
    const client = await connectClient(node);
    clients.push(client);
    expect(client.hello.type).toBe('HELLO');
    expect(client.limits.chunk_size).toBeGreaterThan(0);
    expect(client.nodeFingerprint).toBe(node.fingerprint());
  });

  it('speaks the same protocol over TCP with length-prefixed frames', async () => {
    const client = await ArtpClient.connect({
      transport: await openTcp(node.tcpPort),
      aead: nodeAead,
      staticKey: generateKeyPair(randomBytes),
      random: randomBytes,
    });
    clients.push(client);
    await expect(client.request({ type: 'PING' })).resolves.toMatchObject({ type: 'OK' });
  });

  it('refuses a node whose key differs from the pinned one and closes the connection', async () => {
    const refuse = (presented: string) => {
      throw new KeyChangedError(node.wsAddress, 'SHA256:pinned', presented);
    };
    await expect(connectClient(node, refuse)).rejects.toBeInstanceOf(KeyChangedError);
  });

  it('registers, then fails a wrong password with AUTH_FAILED', async () => {
    const [, name] = await user();
    const other = await connectClient(node);
    clients.push(other);
    const attempt = other.request({ type: 'AUTH', user: name, password: 'not the password' });
    await expect(attempt).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('answers NOT_AUTHENTICATED to a JOIN before AUTH', async () => {
    const client = await connectClient(node);
    clients.push(client);
    await expect(client.request({ type: 'JOIN', channel: '#general' })).rejects.toBeInstanceOf(ArtpError);
  });

  it('delivers a channel message to another member with the id of the sender OK', async () => {
    const channel = `#m${process.pid % 1000}${Date.now() % 100000}`;
    const [alice, aliceName] = await user('alice');
    const [bob] = await user('bob');
    await alice.request({ type: 'JOIN', channel });
    await bob.request({ type: 'JOIN', channel });
    const received = nextEvent(bob, isMsg);
    const ok = await alice.request({ type: 'MSG', dest_type: 'channel', dest: channel, content: 'Hello Arona!' });
    const message = await received;
    expect(message).toMatchObject({ id: ok.msg_id, from: aliceName, dest: channel, content: 'Hello Arona!' });
    const history = await bob.request({ type: 'HISTORY', dest_type: 'channel', dest: channel, limit: 10 });
    expect(history.messages?.map((m) => m.content)).toEqual(['Hello Arona!']);
  });

  it('asks for batch and receives a pipelined burst, as arrays, in order and complete (§14.2)', async () => {
    const channel = `#b${process.pid % 1000}${Date.now() % 100000}`;
    const [alice] = await user('alice');
    const [bob] = await user('bob');
    expect(bob.features.has('batch')).toBe(true);
    await alice.request({ type: 'JOIN', channel });
    await bob.request({ type: 'JOIN', channel });
    const contents: string[] = [];
    const all = new Promise<void>((resolve) => {
      const stop = bob.onEvent((event) => {
        if (event.type === 'MSG' && event.dest === channel) contents.push(event.content);
        if (contents.length === 40) {
          stop();
          resolve();
        }
      });
    });
    const sent = Array.from({ length: 40 }, (_, n) => `burst ${n}`);
    await Promise.all(sent.map((content) => alice.request({ type: 'MSG', dest_type: 'channel', dest: channel, content })));
    await all;
    expect(contents).toEqual(sent);
  });

  it('delivers a direct message to its recipient as dest_type user', async () => {
    const [alice, aliceName] = await user('alice');
    const [bob, bobName] = await user('bob');
    const received = nextEvent(bob, isMsg);
    await alice.request({ type: 'MSG', dest_type: 'user', dest: bobName, content: 'psst' });
    expect(await received).toMatchObject({ from: aliceName, dest_type: 'user', dest: bobName, content: 'psst' });
  });

  it('uploads an image in chunks and another member downloads the same bytes', async () => {
    const channel = `#img${process.pid % 1000}${Date.now() % 100000}`;
    const [alice] = await user('alice');
    const [bob] = await user('bob');
    await alice.request({ type: 'JOIN', channel });
    await bob.request({ type: 'JOIN', channel });
    const png = solidPng(200, 120);
    const progress: number[] = [];
    const received = nextEvent(bob, isMsg);
    const ok = await alice.uploadImage(
      { bytes: png, name: 'arona.png', mime: 'image/png', destType: 'channel', dest: channel },
      { onProgress: (fraction) => progress.push(fraction) },
    );
    expect(progress.at(-1)).toBe(1);
    const message = await received;
    expect(message.attachment).toMatchObject({ image: ok.image, mime: 'image/png', width: 200, height: 120 });
    const image = await bob.downloadImage(ok.image as string);
    expect(Buffer.from(image.bytes)).toEqual(Buffer.from(png));
  });

  it('counts upload progress in bytes the node acknowledged, ending at 1 with its OK', async () => {
    const [alice, name] = await user('alice');
    const png = noisePng(120, 120); // ~43 KB of noise: two chunks of 32 KiB
    const chunkSize = alice.limits.chunk_size;
    const progress: number[] = [];
    await alice.uploadImage({ bytes: png, name: 'noise.png', mime: 'image/png', destType: 'user', dest: name }, { onProgress: (f) => progress.push(f) });
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(1);
    // Before the OK, only whole chunks the node reported holding (IMG_STATUS received) count.
    const acknowledged = progress.slice(0, -1);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const fraction of acknowledged) expect(Math.round((fraction * png.length) / chunkSize) * chunkSize).toBeCloseTo(fraction * png.length, 3);
  });

  it('resumes an interrupted upload from the chunks the node already holds', async () => {
    const [first, name] = await user('alice');
    const png = noisePng(200, 120, 11); // ~72 KB: three chunks
    const upload = { bytes: png, name: 'resumed.png', mime: 'image/png', destType: 'user' as const, dest: name };
    const chunkSize = first.limits.chunk_size;
    const [chunk0, chunk1] = uploadChunks(upload, chunkSize, 'resume-me');
    await first.send(chunk0!);
    await first.send(chunk1!);
    await expect(first.request({ type: 'IMG_STATUS', transfer: 'resume-me' })).resolves.toMatchObject({ received: [0, 1] });
    first.close(); // the link drops mid-upload

    const second = await connectClient(node);
    clients.push(second);
    await second.request({ type: 'AUTH', user: name, password: 'correct horse battery' });
    const progress: number[] = [];
    const ok = await second.uploadImage(upload, { transfer: 'resume-me', resume: true, onProgress: (f) => progress.push(f) });
    expect(progress[0]).toBeCloseTo((2 * chunkSize) / png.length, 6);
    const image = await second.downloadImage(ok.image as string);
    expect(Buffer.from(image.bytes)).toEqual(Buffer.from(png));
  });

  it('does not post an image twice when resuming an upload that had completed', async () => {
    const [alice, name] = await user('alice');
    const upload = { bytes: solidPng(30, 30), name: 'once.png', mime: 'image/png', destType: 'user' as const, dest: name };
    const done = await alice.uploadImage(upload, { transfer: 'done-already' });
    const again = await alice.uploadImage(upload, { transfer: 'done-already', resume: true });
    expect(again.msg_id).toBe(done.msg_id);
    const history = await alice.request({ type: 'HISTORY', dest_type: 'user', dest: name, limit: 10 });
    expect(history.messages?.filter((m) => m.attachment?.name === 'once.png')).toHaveLength(1);
  });

  it('reports IMAGE_INVALID for bytes that are not an image and keeps the session open', async () => {
    const [alice, name] = await user('alice');
    const junk = new TextEncoder().encode('definitely not a png');
    const upload = alice.uploadImage({ bytes: junk, name: 'x.png', mime: 'image/png', destType: 'user', dest: name });
    await expect(upload).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    await expect(alice.request({ type: 'PING' })).resolves.toBeDefined();
  });

  it('gives NOT_FOUND for an image that does not exist', async () => {
    const [alice] = await user();
    await expect(alice.downloadImage('0'.repeat(64))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('creates unique user names for the tests', () => {
    expect(uniqueUser()).not.toBe(uniqueUser());
  });
});
