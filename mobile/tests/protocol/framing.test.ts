import { encodeFrame, FrameDecoder, MAX_FRAME } from '../../src/protocol/framing';
import { FrameError } from '../../src/protocol/errors';

const frameOf = (...body: number[]) => encodeFrame(new Uint8Array(body));

describe('FrameDecoder', () => {
  it('returns a whole frame fed at once', () => {
    expect(new FrameDecoder().receive(frameOf(1, 2, 3))).toEqual([new Uint8Array([1, 2, 3])]);
  });

  it('reassembles a frame fed one byte at a time', () => {
    const decoder = new FrameDecoder();
    const bytes = frameOf(9, 8, 7, 6);
    const frames = [...bytes].flatMap((byte) => decoder.receive(new Uint8Array([byte])));
    expect(frames).toEqual([new Uint8Array([9, 8, 7, 6])]);
  });

  it('splits several frames arriving in one read', () => {
    const both = new Uint8Array([...frameOf(1), ...frameOf(2, 2)]);
    expect(new FrameDecoder().receive(both)).toEqual([new Uint8Array([1]), new Uint8Array([2, 2])]);
  });

  it('fails as soon as four bytes announce a length above max_frame', () => {
    const header = new Uint8Array([0, 1, 0, 0]); // 65536
    expect(() => new FrameDecoder().receive(header)).toThrow(/65536 is outside 1..65535/);
  });

  it('fails on a zero length and stays failed', () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.receive(new Uint8Array([0, 0, 0, 0]))).toThrow(FrameError);
    expect(() => decoder.receive(frameOf(1))).toThrow(FrameError);
  });

  it('refuses to encode a message longer than max_frame', () => {
    expect(() => encodeFrame(new Uint8Array(MAX_FRAME + 1))).toThrow(FrameError);
  });
});
