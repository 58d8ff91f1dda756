/**
 * Decoded images (data URIs) by SHA-256, bounded: a long session scrolling through many images
 * keeps only the most recently used, and logout clears it. A failed download is dropped so the
 * next request tries again.
 */
export const IMAGE_CACHE_SIZE = 64;

export class ImageCache {
  private readonly uris = new Map<string, Promise<string>>();

  constructor(private readonly capacity = IMAGE_CACHE_SIZE) {}

  get(image: string): Promise<string> | undefined {
    const uri = this.uris.get(image);
    if (uri) {
      // Most recently used goes last; the first entry is the one to evict.
      this.uris.delete(image);
      this.uris.set(image, uri);
    }
    return uri;
  }

  set(image: string, uri: Promise<string>): void {
    this.uris.set(image, uri);
    uri.catch(() => {
      if (this.uris.get(image) === uri) this.uris.delete(image);
    });
    while (this.uris.size > this.capacity) {
      const oldest = this.uris.keys().next().value as string;
      this.uris.delete(oldest);
    }
  }

  clear(): void {
    this.uris.clear();
  }

  get size(): number {
    return this.uris.size;
  }
}
