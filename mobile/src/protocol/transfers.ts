/**
 * Image transfers (§4): chunked upload on one `transfer` id with metadata on index 0, and
 * download as a stream of `IMG_CHUNK` answering `IMG_GET` by `re`.
 */

import { sha256 } from '@noble/hashes/sha2.js';

import type { ArtpClient } from './client';
import { concat, fromBase64, toBase64, toHex } from './bytes';
import { ArtpError } from './errors';
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
  const { chunk_size: chunkSize, max_image: maxImage } = client.limits;
  if (upload.bytes.length > maxImage) {
    throw new ArtpError('TOO_LARGE', `image of ${upload.bytes.length} bytes exceeds the limit of ${maxImage} bytes`);
  }
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

/** Collect an `IMG_GET` stream and check the bytes hash to the image id. */
export async function downloadImage(client: ArtpClient, image: string): Promise<DownloadedImage> {
  const parts: Uint8Array[] = [];
  let name = image;
  let mime = 'application/octet-stream';
  await client.stream({ type: 'IMG_GET', image }, (message: ServerMessage) => {
    if (message.type !== 'IMG_CHUNK') throw new ArtpError('INVALID', `unexpected ${message.type} in an image stream`);
    if (message.index !== parts.length) throw new ArtpError('INVALID', `chunk ${message.index} out of order`);
    if (message.index === 0) {
      name = message.name ?? name;
      mime = message.mime ?? mime;
    }
    parts.push(fromBase64(message.data));
    return message.index === message.total - 1;
  });
  const bytes = concat(...parts);
  if (toHex(sha256(bytes)) !== image) throw new ArtpError('INVALID', 'downloaded image does not match its SHA-256');
  return { image, bytes, name, mime };
}
