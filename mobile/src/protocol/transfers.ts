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

let transferCounter = 0;

function newTransferId(): string {
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
 * Send every chunk, then wait for the reply to the last one. A failure on an earlier chunk
 * arrives as `ERROR` with `transfer` (and without `re`), which ends the upload early.
 */
export async function uploadImage(
  client: ArtpClient,
  upload: ImageUpload,
  onProgress?: (fraction: number) => void,
): Promise<Ok> {
  const { chunk_size: chunkSize, max_image: maxImage } = client.limits;
  if (upload.bytes.length > maxImage) {
    throw new ArtpError('TOO_LARGE', `image of ${upload.bytes.length} bytes exceeds the limit of ${maxImage} bytes`);
  }
  const transfer = newTransferId();
  let failure: ArtpError | null = null;
  let rejectEarly: (error: ArtpError) => void = () => undefined;
  const early = new Promise<never>((_resolve, reject) => {
    rejectEarly = reject;
  });
  early.catch(() => undefined); // observed below only when the upload is still running
  const unwatch = client.watchTransfer(transfer, (error) => {
    failure = error;
    rejectEarly(error);
  });
  try {
    const requests = uploadChunks(upload, chunkSize, transfer);
    // §4: the node replies only to the last chunk (which carries our id), or to the first that fails.
    const last = requests.pop() as ImgChunkRequest;
    for (const [index, request] of requests.entries()) {
      if (failure) throw failure;
      await client.send(request);
      onProgress?.((index + 1) / (requests.length + 1));
    }
    if (failure) throw failure;
    const reply = await Promise.race([client.request(last), early]);
    onProgress?.(1);
    return reply;
  } finally {
    unwatch();
  }
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
