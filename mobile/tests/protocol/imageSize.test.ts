/**
 * Reading an image's pixel size from its header, on real encoder output: the fixtures below are
 * 7 × 3 images written by Pillow (the library the node checks images with), one per type a
 * node accepts (PROTOCOL.md §10).
 */
import { fromBase64 } from '../../src/protocol/bytes';
import { imagePixelSize } from '../../src/protocol/imageSize';
import { checkImageLimits } from '../../src/protocol/transfers';
import { solidPng } from '../support/png';

const PILLOW_7X3 = {
  'a progressive JPEG':
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wgARCAADAAcDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAL/xAAUAQEAAAAAAAAAAAAAAAAAAAAF/9oADAMBAAIQAxAAAAGgqP8A/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABBQJ//8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAgBAwEBPwF//8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAgBAgEBPwF//8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAGPwJ//8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPyF//9oADAMBAAIAAwAAABAP/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAgBAwEBPxB//8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAgBAgEBPxB//8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxB//9k=',
  'a GIF': 'R0lGODdhBwADAIEAADqa2QAAAAAAAAAAACwAAAAABwADAAAICQABCBxIsKDBgAA7',
  'a lossy WebP (VP8)': 'UklGRjoAAABXRUJQVlA4IC4AAADwAQCdASoHAAMAAUAmJaACdLoB+AAF9AAA2m/89Mogs3r9/9NI8aR40j5TQAAA',
  'a lossless WebP (VP8L)': 'UklGRh4AAABXRUJQVlA4TBEAAAAvBoAAAAdQzeo0u/+BiOh/AAA=',
  'an extended WebP (VP8X)':
    'UklGRloAAABXRUJQVlA4WAoAAAAYAAAABgAAAgAAQUxQSAoAAAABB1CyiAhERP8DVlA4IBgAAAAwAQCdASoHAAMAAUAmJaQAA3AA/v0gUABFWElGCgAAAE1NACoAAAAIAAA=',
  'a PNG': 'iVBORw0KGgoAAAANSUhEUgAAAAcAAAADCAIAAADQoYKSAAAAFElEQVR4nGO0mnWTAQMwYQrhFAUAa6kBs1Mhdq0AAAAASUVORK5CYII=',
};

describe('imagePixelSize', () => {
  it.each(Object.entries(PILLOW_7X3))('reads 7 x 3 from the header of %s', (_kind, base64) => {
    expect(imagePixelSize(fromBase64(base64))).toEqual({ width: 7, height: 3 });
  });

  it('reads sizes beyond one byte (PNG, big-endian)', () => {
    expect(imagePixelSize(solidPng(300, 2))).toEqual({ width: 300, height: 2 });
  });

  it('gives null for bytes that are no image it knows, or a header cut short', () => {
    expect(imagePixelSize(new TextEncoder().encode('definitely not a png'))).toBeNull();
    expect(imagePixelSize(fromBase64(PILLOW_7X3['a PNG']).subarray(0, 20))).toBeNull();
    expect(imagePixelSize(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeNull();
  });
});

describe('checkImageLimits', () => {
  const png = solidPng(200, 100); // 20000 pixels, a few hundred bytes

  it('refuses an image over max_image_pixels, naming both numbers', () => {
    expect(() => checkImageLimits(png, { max_image: 10_000_000, max_image_pixels: 19_999 })).toThrow(
      /TOO_LARGE: image of 200×100 = 20000 pixels exceeds this node's limit of 19999 pixels/,
    );
  });

  it('refuses an image over max_image bytes', () => {
    expect(() => checkImageLimits(png, { max_image: png.length - 1 })).toThrow(
      new RegExp(`image of ${png.length} bytes exceeds this node's limit of ${png.length - 1} bytes`),
    );
  });

  it('lets through an image at the limits, or any size when the node advertises no pixel limit', () => {
    expect(() => checkImageLimits(png, { max_image: png.length, max_image_pixels: 20_000 })).not.toThrow();
    expect(() => checkImageLimits(png, { max_image: png.length })).not.toThrow();
  });
});
