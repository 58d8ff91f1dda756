/**
 * Image downloads against a real node (PROTOCOL.md §10): a multi-chunk image whose link drops
 * mid-stream resumes with `IMG_GET start` at the first missing chunk and checks the SHA-256 of
 * the whole; and a stream slower in total than the request timeout still completes, because
 * the timeout is one of inactivity.
 */
import { ArtpClient } from '../../src/protocol/client';
import { LocalErrorCode } from '../../src/protocol/errors';
import { generateKeyPair } from '../../src/protocol/noise';
import { ImageDownload } from '../../src/protocol/transfers';
import type { Transport } from '../../src/transport/transport';
import { openWebSocket } from '../../src/transport/websocket';
import { NodeWebSocket, uniqueUser } from '../support/client';
import { startNode, type RunningNode } from '../support/node';
import { noisePng } from '../support/png';
import { SeverableTransport, SlowTransport } from '../support/transports';
import { nodeAead, randomBytes } from '../support/webcrypto';

const PASSWORD = 'correct horse battery';

let node: RunningNode;
let owner: string;
let png: Uint8Array;
let image: string;
const clients: ArtpClient[] = [];

/** Log `owner` in over a real WebSocket that `wrap` may make misbehave. */
async function logIn<T extends Transport>(wrap: (transport: Transport) => T, options: { requestTimeoutMs?: number; register?: boolean } = {}): Promise<[ArtpClient, T]> {
  const transport = wrap(await openWebSocket(node.wsUrl, NodeWebSocket));
  const keys = { aead: nodeAead, staticKey: generateKeyPair(randomBytes), random: randomBytes };
  const client = await ArtpClient.connect({ transport, ...keys, requestTimeoutMs: options.requestTimeoutMs });
  clients.push(client);
  await client.request({ type: 'AUTH', user: owner, password: PASSWORD, register: options.register ?? false });
  return [client, transport];
}

/** Byte equality without jest's element-by-element diff of 180 KB. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

beforeAll(async () => {
  node = await startNode();
  owner = uniqueUser('arona');
  const [uploader] = await logIn((transport) => transport, { register: true });
  png = noisePng(300, 200); // ~180 KB of noise: six chunks of 32 KiB
  const ok = await uploader.uploadImage({ bytes: png, name: 'noise.png', mime: 'image/png', destType: 'user', dest: owner });
  image = ok.image as string;
}, 60_000);

afterAll(async () => {
  for (const client of clients.splice(0)) client.close();
  await node?.stop();
});

describe('downloading an image', () => {
  it('resumes a download cut mid-stream at the first missing chunk, on a new connection', async () => {
    const [first, link] = await logIn((transport) => new SeverableTransport(transport));
    const seen: number[] = [];
    let cutAfter = 1;
    const download = new ImageDownload(image, (index) => {
      seen.push(index);
      if (index === cutAfter) link.sever(); // the network goes right after chunk 1
    });
    await expect(download.run(first)).rejects.toMatchObject({ code: LocalErrorCode.CLOSED });
    expect(download.received).toBe(2);

    const [second] = await logIn((transport) => transport);
    cutAfter = -1;
    const found = await download.run(second);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]); // the second stream started at chunk 2 (IMG_GET start: 2)
    expect(sameBytes(found.bytes, png)).toBe(true);
    expect(found).toMatchObject({ name: 'noise.png', mime: 'image/png' });
  });

  it('keeps going while chunks keep coming, however long the whole stream takes', async () => {
    const [client, link] = await logIn((transport) => new SlowTransport(transport, 300), { requestTimeoutMs: 1_000 });
    link.slow = true; // six chunks, 300 ms apart: longer in all than the 1 s timeout, never silent for 1 s
    const found = await client.downloadImage(image);
    expect(sameBytes(found.bytes, png)).toBe(true);
  });
});
