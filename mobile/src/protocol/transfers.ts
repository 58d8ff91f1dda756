/**
 * Image transfers (§4): chunked upload on one `transfer` id with metadata on index 0, and
 * download as a stream of `IMG_CHUNK` answering `IMG_GET` by `re`, resumable from any chunk.
 */

import { sha256 } from '@noble/hashes/sha2.js';

import type { ArtpClient, NodeLimits } from './client';
import { concat, fromBase64, toBase64, toHex } from './bytes';
import { ArtpError } from './errors';
import { imagePixelSize } from './imageSize';
import type { DestType, ImgChunkRequest, Ok, ServerMessage } from './messages';

export interface ImageUpload {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly mime: string;
  readonly destType: DestType;
  readonly dest: string;
  /** Text to go with the image; the node may leave it empty. */
  readonly content?: string;
}

export interface DownloadedImage {
  readonly image: string;
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly mime: string;
}

/** How the caller follows and steers one upload. */
export interface UploadOptions {
  /**
   * The fraction (0..1) of the image's bytes the node has acknowledged holding: the
   * `received` list of `IMG_STATUS` while chunks flow, then 1 with the `OK` to the last chunk.
   * Never the bytes merely handed to the socket.
   */
  readonly onProgress?: (fraction: number) => void;
  /** The transfer id; a caller that may resume later picks it (see `newTransferId`). */
  readonly transfer?: string;
  /** Ask the node what it already holds of `transfer` first, and continue from there. */
  readonly resume?: boolean;
  /** Chunks sent ahead of the node's acknowledgement (flow control); default 4. */
  readonly window?: number;
}

const DEFAULT_WINDOW = 4;
let transferCounter = 0;

/** A transfer id unique among this device's uploads (§4: 1-64 chars, chosen by the client). */
export function newTransferId(): string {
  transferCounter += 1;
  return `t${Date.now().toString(36)}${transferCounter}`;
}

/** Split bytes into chunks of at most `chunkSize` (§4: "at most chunk_size raw bytes"). */
export function chunk(bytes: Uint8Array, chunkSize: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    chunks.push(bytes.subarray(offset, offset + chunkSize));
  }
  return chunks.length > 0 ? chunks : [new Uint8Array(0)];
}

/** Build the `IMG_CHUNK` requests of one upload (the caller gives the last one its `id`). */
export function uploadChunks(upload: ImageUpload, chunkSize: number, transfer: string): ImgChunkRequest[] {
  const parts = chunk(upload.bytes, chunkSize);
  return parts.map((part, index) => {
    const request: ImgChunkRequest = { type: 'IMG_CHUNK', transfer, index, total: parts.length, data: toBase64(part) };
    if (index === 0) {
      // Metadata on index 0 only.
      Object.assign(request, {
        dest_type: upload.destType,
        dest: upload.dest,
        name: upload.name,
        mime: upload.mime,
        size: upload.bytes.length,
        sha256: toHex(sha256(upload.bytes)),
        ...(upload.content ? { content: upload.content } : {}),
      });
    }
    return request;
  });
}

/**
 * Refuse locally, with the numbers, an image the node would refuse after the whole upload:
 * `size <= max_image` (§4) and width × height within `max_image_pixels` when HELLO advertises
 * it (§3 extension; the node answers TOO_LARGE for both). A header this client cannot read is
 * left for the node to judge.
 */
export function checkImageLimits(bytes: Uint8Array, limits: Pick<NodeLimits, 'max_image' | 'max_image_pixels'>): void {
  if (bytes.length > limits.max_image) {
    throw new ArtpError('TOO_LARGE', `image of ${bytes.length} bytes exceeds this node's limit of ${limits.max_image} bytes`);
  }
  const maxPixels = limits.max_image_pixels;
  const size = maxPixels === undefined ? null : imagePixelSize(bytes);
  if (maxPixels !== undefined && size && size.width * size.height > maxPixels) {
    const pixels = size.width * size.height;
    throw new ArtpError(
      'TOO_LARGE',
      `image of ${size.width}×${size.height} = ${pixels} pixels exceeds this node's limit of ${maxPixels} pixels`,
    );
  }
}

/** `bytesHeld(n)`: how many bytes the first `n` chunks make up. */
function byteCounter(chunkSize: number, size: number): (chunks: number) => number {
  return (chunks) => Math.min(size, chunks * chunkSize);
}

/**
 * Send the chunks, then wait for the reply to the last one. After each chunk an `IMG_STATUS`
 * asks which chunks the node holds: replies come in request order and chunks arrive in order
 * (§3, §4), so its `received` prefix is the node's acknowledgement of everything before it.
 * That drives progress and a window of unacknowledged chunks. A failure on an earlier chunk
 * arrives as `ERROR` with `transfer` (and without `re`), which ends the upload early.
 */
export async function uploadImage(client: ArtpClient, upload: ImageUpload, options: UploadOptions = {}): Promise<Ok> {
  checkImageLimits(upload.bytes, client.limits);
  const chunkSize = client.limits.chunk_size;
  const transfer = options.transfer ?? newTransferId();
  const requests = uploadChunks(upload, chunkSize, transfer);
  const bytesHeld = byteCounter(chunkSize, upload.bytes.length);
  let held = 0;
  const acknowledge = (chunks: number) => {
    held = Math.max(held, chunks);
    options.onProgress?.(upload.bytes.length === 0 ? 0 : bytesHeld(held) / upload.bytes.length);
  };
  const status = () => client.request({ type: 'IMG_STATUS', transfer });

  if (options.resume) {
    const known = await status();
    // PROTOCOL.md §10: "If the upload had in fact completed ... the client MUST NOT upload again."
    if (known.msg_id !== undefined) {
      options.onProgress?.(1);
      return known;
    }
    acknowledge(known.received?.length ?? 0); // "a prefix 0..n-1 ... The client continues with chunk n"
  }
  const watch = watchFailure(client, transfer);
  try {
    const last = requests.pop() as ImgChunkRequest;
    const unacknowledged: Promise<void>[] = [];
    for (const request of requests.slice(held)) {
      watch.check();
      if (unacknowledged.length >= (options.window ?? DEFAULT_WINDOW)) await watch.race(unacknowledged.shift() as Promise<void>);
      await client.send(request);
      const ack = status().then((ok) => acknowledge(ok.received?.length ?? 0));
      ack.catch(() => undefined); // awaited in turn above, or superseded by the last chunk's reply
      unacknowledged.push(ack);
    }
    watch.check();
    // §4: the node replies only to the last chunk (which carries our id), or to the first that fails.
    const reply = await watch.race(client.request(last));
    options.onProgress?.(1);
    return reply;
  } finally {
    watch.stop();
  }
}

/** Turn an `ERROR` naming `transfer` into a rejection of whatever the upload awaits next. */
function watchFailure(client: ArtpClient, transfer: string) {
  let failure: ArtpError | null = null;
  let rejectEarly: (error: ArtpError) => void = () => undefined;
  const early = new Promise<never>((_resolve, reject) => {
    rejectEarly = reject;
  });
  early.catch(() => undefined); // observed only while the upload is still running
  const stop = client.watchTransfer(transfer, (error) => {
    failure = error;
    rejectEarly(error);
  });
  return {
    check(): void {
      if (failure) throw failure;
    },
    race<T>(promise: Promise<T>): Promise<T> {
      return Promise.race([promise, early]);
    },
    stop,
  };
}

/**
 * One image download that survives a dropped link (§10 IMG_GET, `start` extension): the chunks
 * received so far are kept, and running it again, on the same or a new connection, asks only
 * for the first missing chunk onwards. The assembled bytes are checked against the image's
 * SHA-256 at the end ("clients SHOULD verify the SHA-256 of what they assembled"); a mismatch
 * (the node's `chunk_size` changed between attempts, say) forgets everything, so the next run
 * starts over.
 */
export class ImageDownload {
  private parts: Uint8Array[] = [];
  private total: number | null = null;
  private name: string;
  private mime = 'application/octet-stream';

  /** `onChunk` hears of every chunk stored, for progress (and for tests that cut the link). */
  constructor(
    readonly image: string,
    private readonly onChunk?: (index: number, total: number) => void,
  ) {
    this.name = image;
  }

  /** How many chunks are held: the `start` of the next attempt. */
  get received(): number {
    return this.parts.length;
  }

  /** Fetch the missing chunks over `client`; rejects (keeping what arrived) if the stream breaks. */
  async run(client: ArtpClient): Promise<DownloadedImage> {
    if (this.total === null || this.parts.length < this.total) {
      const start = this.parts.length;
      // "When resuming with start > 0, the client already has the metadata from its first attempt."
      const request = start > 0 ? { type: 'IMG_GET' as const, image: this.image, start } : { type: 'IMG_GET' as const, image: this.image };
      await client.stream(request, (message) => this.accept(message));
    }
    return this.assemble();
  }

  /** Store one chunk of the stream; true at the last one (`index` = `total` - 1, no final OK). */
  private accept(message: ServerMessage): boolean {
    if (message.type !== 'IMG_CHUNK') throw new ArtpError('INVALID', `unexpected ${message.type} in an image stream`);
    if (message.index !== this.parts.length) throw new ArtpError('INVALID', `chunk ${message.index} out of order`);
    if (this.total !== null && message.total !== this.total) {
      this.forget(); // chunk i holds bytes i × chunk_size…: another chunk size cannot be pieced together
      throw new ArtpError('INVALID', `the image now comes in ${message.total} chunks, not ${this.total}`);
    }
    if (message.index === 0) {
      this.name = message.name ?? this.name;
      this.mime = message.mime ?? this.mime;
    }
    this.total = message.total;
    this.parts.push(fromBase64(message.data));
    this.onChunk?.(message.index, message.total);
    return message.index === message.total - 1;
  }

  private assemble(): DownloadedImage {
    const bytes = concat(...this.parts);
    if (toHex(sha256(bytes)) !== this.image) {
      this.forget();
      throw new ArtpError('INVALID', 'downloaded image does not match its SHA-256');
    }
    return { image: this.image, bytes, name: this.name, mime: this.mime };
  }

  private forget(): void {
    this.parts = [];
    this.total = null;
  }
}
