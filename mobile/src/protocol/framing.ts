/**
 * ArTP framing over byte streams (§1): `[u32 big-endian length N][N bytes]`, 1 <= N <= 65535.
 *
 * Sans-I/O: feed whatever bytes arrived, take whole frames out. The WebSocket transport does
 * not use it (one binary message is one ArTP message); TCP transports do.
 */

import { FrameError } from './errors';
import { MAX_FRAME } from './limits';

export { MAX_FRAME } from './limits';
const HEADER = 4;

/** Prefix one message with its length; refuses lengths the contract forbids. */
export function encodeFrame(message: Uint8Array, maxFrame: number = MAX_FRAME): Uint8Array {
  checkLength(message.length, maxFrame);
  const out = new Uint8Array(HEADER + message.length);
  new DataView(out.buffer).setUint32(0, message.length, false);
  out.set(message, HEADER);
  return out;
}

function checkLength(length: number, maxFrame: number): void {
  if (length < 1 || length > maxFrame) {
    throw new FrameError(`frame length ${length} is outside 1..${maxFrame} bytes`);
  }
}

/**
 * Splits a byte stream into frames. Handles frames split at any byte boundary and several
 * frames in one chunk. Once it has failed it stays failed: the caller must close.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failure: FrameError | null = null;

  constructor(private readonly maxFrame: number = MAX_FRAME) {}

  /** Add received bytes and return every frame now complete, in order. */
  receive(data: Uint8Array): Uint8Array[] {
    if (this.failure) throw this.failure;
    if (data.length > 0) {
      this.chunks.push(data);
      this.buffered += data.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < HEADER) return frames;
      const header = this.peek(HEADER);
      const length = new DataView(header.buffer, header.byteOffset, HEADER).getUint32(0, false);
      try {
        // §1: "MUST close the connection without reading the body and without allocating N bytes."
        checkLength(length, this.maxFrame);
      } catch (error) {
        this.failure = error as FrameError;
        this.chunks = [];
        throw error;
      }
      if (this.buffered < HEADER + length) return frames;
      this.take(HEADER);
      frames.push(this.take(length));
    }
  }

  private peek(count: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.length >= count) return first.subarray(0, count);
    return this.collect(count, false);
  }

  private take(count: number): Uint8Array {
    return this.collect(count, true);
  }

  private collect(count: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(count);
    let filled = 0;
    let index = 0;
    while (filled < count) {
      const chunk = this.chunks[index] as Uint8Array;
      const used = Math.min(chunk.length, count - filled);
      out.set(chunk.subarray(0, used), filled);
      filled += used;
      if (consume && used === chunk.length) {
        this.chunks.shift();
      } else if (consume) {
        this.chunks[0] = chunk.subarray(used);
      } else {
        index++;
      }
    }
    if (consume) this.buffered -= count;
    return out;
  }
}
